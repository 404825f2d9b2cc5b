// Little helpers to write and read compact binary encodings (varints, length-prefixed strings).
//
// The reader is bounded: every read checks the remaining length and reports failure instead of
// reading past the end, so decoders built on it reject truncated or garbled input cleanly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace md::core {

inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  bool varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      auto byte = static_cast<uint8_t>(data_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;  // more than 10 bytes: not a varint we wrote
  }

  bool byte(uint8_t* b) {
    if (pos_ >= data_.size()) return false;
    *b = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool bytes(std::string_view* s) {
    uint64_t n = 0;
    if (!varint(&n) || n > data_.size() - pos_) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool raw(size_t n, std::string_view* s) {
    if (n > data_.size() - pos_) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool at_end() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace md::core
