// The Redis serialization protocol (RESP2 and RESP3), as a server needs it: an incremental parser
// for the commands clients send, and a writer for the replies. Pure, no sockets (the fuzzer
// fuzz/resp_parser_fuzzer.cc links it alone).
//
// The parser promises:
//  - it takes bytes as they arrive, in pieces of any size, and yields the same commands however the
//    bytes were split (it keeps the elements of a command already read, never the bytes twice);
//  - commands are arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client
//    library and redis-cli send) or inline lines (`GET k\r\n`, split at spaces and tabs, as
//    telnet users type them; no quoting);
//  - it is bounded: a bulk string longer than bulk_bytes_max, an array longer than items_max, a
//    command whose elements add up to more than command_bytes_max, or a header or inline line
//    longer than line_bytes_max is a protocol error, found from the header before any of the
//    claimed bytes are read or allocated (a "$1073741824" costs nothing);
//  - an error is final: the connection is to answer `-ERR Protocol error: ...` and close, as Redis does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace md::net::resp {

struct ParserLimits {
  size_t bulk_bytes_max = 1 << 20;        // longest bulk string (the node's value limit plus slack)
  size_t items_max = 1 << 20;             // elements of one command
  size_t command_bytes_max = 64 << 20;    // a command's elements, plus sizeof(std::string) each
  size_t line_bytes_max = 64 << 10;       // a header line (`*3`, `$5`) or an inline command
};

class CommandParser {
 public:
  enum class Kind : uint8_t { command, need_more, error };
  struct Result {
    Kind kind = Kind::need_more;
    size_t consumed = 0;  // bytes of `input` used up, whatever the kind: drop them before the next call
    std::string error;    // with Kind::error: what was wrong, e.g. "invalid bulk length"
  };

  explicit CommandParser(ParserLimits limits) : limits_(limits) {}

  // Reads from `input`, the bytes received and not yet consumed. Kind::command: *command holds the
  // next command (at least one element); need_more: more bytes are needed (the elements read so
  // far are kept); error: the stream is broken, and the parser must not be called again.
  Result parse(std::string_view input, std::vector<std::string>* command);

  // True between commands: nothing of a command read yet (a closed connection lost nothing).
  bool idle() const { return items_expected_ < 0 && items_.empty(); }

 private:
  Result parse_inline(std::string_view input, std::vector<std::string>* command);

  ParserLimits limits_;
  int64_t items_expected_ = -1;  // -1: between commands; else the array's length
  std::vector<std::string> items_;
  size_t command_bytes_ = 0;
  bool broken_ = false;
};

// RESP2 (the default) or RESP3 (after HELLO 3): the reply types each has.
enum class Version : uint8_t { resp2 = 2, resp3 = 3 };

// Appends replies to a string. RESP3's types fall back to RESP2's as Redis does: a map to a flat
// array of keys and values, null to the null bulk string, a boolean to 1 or 0. Simple strings
// and errors may not hold CR or LF; the writer turns them into spaces.
class ReplyWriter {
 public:
  ReplyWriter(std::string* out, Version version) : out_(out), version_(version) {}

  void simple(std::string_view text);  // +OK
  void error(std::string_view text);   // -ERR ...: the text starts with the error's code
  void integer(int64_t n);
  void bulk(std::string_view bytes);
  void null();                          // RESP3 `_`; RESP2 the null bulk string $-1
  void array(size_t size);              // then `size` replies
  void map(size_t pairs);               // then `pairs` keys and values
  void boolean(bool b);
  // Text for a person (INFO, CLIENT INFO): RESP3's verbatim string `=` with format "txt", else bulk.
  void verbatim(std::string_view text);

  Version version() const { return version_; }

 private:
  void line(char type, std::string_view text);
  std::string* out_;
  Version version_;
};

}  // namespace md::net::resp
