#include "net/resp_protocol.h"

#include <algorithm>
#include <charconv>

namespace md::net::resp {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// A header's number (`*3`, `$5`): optional '-', digits, nothing else.
bool parse_length(std::string_view text, int64_t* n) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return ec == std::errc() && end == text.data() + text.size();
}

// Where the line at the start of `input` ends (its CR), for a line of at most `max` bytes; npos
// when no CRLF is there yet. The error for a longer line is decided on max + 2 bytes, however
// they arrived, so a split stream breaks exactly where a whole one does.
size_t line_end(std::string_view input, size_t max) {
  return input.substr(0, max + kCrlf.size()).find(kCrlf);
}

}  // namespace

CommandParser::Result CommandParser::parse(std::string_view input, std::vector<std::string>* command) {
  Result result;
  auto fail = [&](std::string message) {
    broken_ = true;
    result.kind = Kind::error;
    result.error = std::move(message);
    return result;
  };
  if (broken_) return fail("the stream broke earlier");
  size_t& pos = result.consumed;
  while (items_expected_ < 0) {  // between commands
    std::string_view rest = input.substr(pos);
    if (rest.empty()) return result;
    if (rest[0] != '*') {
      Result line = parse_inline(rest, command);
      line.consumed += pos;
      if (line.kind != Kind::command || !command->empty()) return line;
      pos = line.consumed;  // an empty line: Redis ignores it
      continue;
    }
    const size_t eol = line_end(rest, limits_.line_bytes_max);
    if (eol == std::string_view::npos) {
      return rest.size() >= limits_.line_bytes_max + kCrlf.size() ? fail("too big mbulk count string") : result;
    }
    int64_t n = 0;
    if (!parse_length(rest.substr(1, eol - 1), &n) || n > static_cast<int64_t>(limits_.items_max)) {
      return fail("invalid multibulk length");
    }
    pos += eol + kCrlf.size();
    if (n <= 0) continue;  // `*0` and `*-1` ask for nothing, as Redis reads them
    items_expected_ = n;
    items_.reserve(static_cast<size_t>(std::min<int64_t>(n, 64)));  // never what the header claims
    command_bytes_ = 0;
  }
  while (items_.size() < static_cast<size_t>(items_expected_)) {
    std::string_view rest = input.substr(pos);
    if (rest.empty()) return result;
    if (rest[0] != '$') return fail(std::string("expected '$', got '") + rest[0] + "'");
    const size_t eol = line_end(rest, limits_.line_bytes_max);
    if (eol == std::string_view::npos) {
      return rest.size() >= limits_.line_bytes_max + kCrlf.size() ? fail("too big bulk count string") : result;
    }
    int64_t length = 0;
    if (!parse_length(rest.substr(1, eol - 1), &length) || length < 0 ||
        static_cast<uint64_t>(length) > limits_.bulk_bytes_max) {
      return fail("invalid bulk length");
    }
    const size_t size = static_cast<size_t>(length);
    if (command_bytes_ + size + sizeof(std::string) > limits_.command_bytes_max) {
      return fail("the command is longer than " + std::to_string(limits_.command_bytes_max) + " bytes");
    }
    const size_t whole = eol + kCrlf.size() + size + kCrlf.size();
    if (rest.size() < whole) return result;  // the header is read again with the rest of the string
    if (rest.substr(whole - kCrlf.size(), kCrlf.size()) != kCrlf) return fail("a bulk string does not end with CRLF");
    items_.emplace_back(rest.substr(eol + kCrlf.size(), size));
    command_bytes_ += size + sizeof(std::string);
    pos += whole;
  }
  *command = std::move(items_);
  items_ = {};
  items_expected_ = -1;
  result.kind = Kind::command;
  return result;
}

CommandParser::Result CommandParser::parse_inline(std::string_view input, std::vector<std::string>* command) {
  Result result;
  const size_t eol = input.substr(0, limits_.line_bytes_max + kCrlf.size()).find('\n');
  if (eol == std::string_view::npos) {
    if (input.size() >= limits_.line_bytes_max + kCrlf.size()) {
      broken_ = true;
      result.kind = Kind::error;
      result.error = "too big inline request";
    }
    return result;
  }
  std::string_view line = input.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  command->clear();
  for (size_t at = 0; at < line.size();) {
    const size_t start = line.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    const size_t end = std::min(line.find_first_of(" \t", start), line.size());
    command->emplace_back(line.substr(start, end - start));
    at = end;
  }
  result.kind = Kind::command;
  result.consumed = eol + 1;
  return result;
}

void ReplyWriter::line(char type, std::string_view text) {
  out_->push_back(type);
  const size_t at = out_->size();
  out_->append(text);
  std::replace_if(out_->begin() + static_cast<std::ptrdiff_t>(at), out_->end(), [](char c) { return c == '\r' || c == '\n'; },
                  ' ');
  out_->append(kCrlf);
}

void ReplyWriter::simple(std::string_view text) { line('+', text); }
void ReplyWriter::error(std::string_view text) { line('-', text); }
void ReplyWriter::integer(int64_t n) { line(':', std::to_string(n)); }

void ReplyWriter::bulk(std::string_view bytes) {
  line('$', std::to_string(bytes.size()));
  out_->append(bytes);
  out_->append(kCrlf);
}

void ReplyWriter::null() { out_->append(version_ == Version::resp3 ? "_\r\n" : "$-1\r\n"); }
void ReplyWriter::array(size_t size) { line('*', std::to_string(size)); }

void ReplyWriter::map(size_t pairs) {
  if (version_ == Version::resp3) return line('%', std::to_string(pairs));
  array(2 * pairs);
}

void ReplyWriter::boolean(bool b) {
  if (version_ == Version::resp3) return line('#', b ? "t" : "f");
  integer(b ? 1 : 0);
}

void ReplyWriter::verbatim(std::string_view text) {
  if (version_ != Version::resp3) return bulk(text);
  line('=', std::to_string(text.size() + 4));
  out_->append("txt:");
  out_->append(text);
  out_->append(kCrlf);
}

}  // namespace md::net::resp
