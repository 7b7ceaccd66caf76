// table_reader.h -- streaming readers for CSV and JSON Lines tables, one row at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::model_validation {

enum class TableFormat { kAuto, kCsv, kJsonLines };

// Parses "auto", "csv", "jsonl"; throws BadConfig naming `key` otherwise.
TableFormat ParseTableFormat(std::string_view text, std::string_view key);

// A table read row by row, so memory does not grow with the number of rows. Callers resolve the
// columns they need with ColumnIndex() before the first Next(); errors are sdk::BadConfig with
// the file, line and column (Where()).
class TableReader {
 public:
  virtual ~TableReader() = default;

  // Opens `path` (shown in messages as `display_name`). kAuto picks JSON Lines for .jsonl/.ndjson
  // and CSV otherwise. Throws BadConfig when the file cannot be opened or is empty.
  static std::unique_ptr<TableReader> Open(const std::string& path, std::string display_name,
                                           TableFormat format, char delimiter = ',');

  // The column names: a CSV header, or the keys of the first JSON object.
  virtual const std::vector<std::string>& columns() const = 0;
  // The index of column `name` for Field(); throws BadConfig naming `what` (e.g.
  // "label_column") when the table has no such column.
  virtual std::size_t ColumnIndex(std::string_view name, std::string_view what) = 0;
  // Advances to the next data row; false at the end of the file.
  virtual bool Next() = 0;
  // The text of a field of the current row (JSON numbers as their shortest round-trip text).
  virtual std::string_view Field(std::size_t index) const = 0;
  // The name of the column behind Field(index).
  virtual const std::string& ColumnName(std::size_t index) const = 0;

  // Number of data rows read so far, and the 1-based line of the current row.
  std::uint64_t rows() const { return rows_; }
  std::uint64_t line() const { return line_; }
  const std::string& name() const { return name_; }
  // "predictions.csv:17: column \"prob_a\"" -- the prefix of every error about a field.
  std::string Where(std::size_t index) const;
  // "predictions.csv:17"
  std::string WhereLine() const;

  // Field `index` as a finite double; throws BadConfig (naming file, line, column) otherwise.
  double Number(std::size_t index) const;

 protected:
  explicit TableReader(std::string name) : name_(std::move(name)) {}

  std::string name_;
  std::uint64_t rows_ = 0;
  std::uint64_t line_ = 0;
};

// Parses all of `text` (surrounding blanks allowed) as a double; false when it is not a number.
bool ParseDouble(std::string_view text, double& out);

// The canonical text of a class label: numbers in their shortest round-trip form ("1.0" and "1"
// are the same class, as they are for numpy), any other text unchanged apart from surrounding
// blanks.
std::string CanonicalLabel(std::string_view text);

}  // namespace stagehost::model_validation
