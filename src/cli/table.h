// A table for the terminal, as the client commands print them (`status`, `admin ...`): a header
// line, then a line a row, each column as wide as its widest cell, numbers right-aligned.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace md::cli {

class Table {
 public:
  struct Column {
    std::string header;
    bool right_aligned = false;  // a column of numbers
  };
  // `indent` starts every line (the header's too).
  explicit Table(std::vector<Column> columns, std::string indent = "");
  // One cell per column.
  void add_row(std::vector<std::string> cells);
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<Column> columns_;
  std::string indent_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace md::cli
