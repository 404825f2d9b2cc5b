#include "cli/table.h"

#include <algorithm>
#include <cassert>

namespace md::cli {

Table::Table(std::vector<Column> columns, std::string indent) : columns_(std::move(columns)), indent_(std::move(indent)) {}

void Table::add_row(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::FILE* out) const {
  std::vector<size_t> widths;
  for (const auto& c : columns_) widths.push_back(c.header.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_line = [&](auto cell_at) {
    std::string line = indent_;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = cell_at(i);
      const std::string pad(widths[i] - cell.size(), ' ');
      if (i > 0) line += "  ";
      line += columns_[i].right_aligned ? pad + cell : cell + (i + 1 < columns_.size() ? pad : "");
    }
    std::fprintf(out, "%s\n", line.c_str());
  };
  print_line([&](size_t i) -> const std::string& { return columns_[i].header; });
  for (const auto& row : rows_) print_line([&](size_t i) -> const std::string& { return row[i]; });
}

}  // namespace md::cli
