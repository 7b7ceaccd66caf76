// table_reader.cc -- CSV (RFC 4180 quoting) and JSON Lines readers over large buffered reads.
#include "table_reader.h"

#include <fcntl.h>
#include <stagehost/stage.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace stagehost::model_validation {
namespace {

using sdk::BadConfig;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  if (s.size() > 60) out += "...";
  return out + "\"";
}

// A file read in large chunks; the unread tail moves to the front when more is needed, so a
// record is always contiguous in memory.
class ChunkedFile {
 public:
  ChunkedFile(const std::string& path, const std::string& name) : buf_(kChunk) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw BadConfig(name + ": cannot open: " + std::strerror(errno));
  }
  ~ChunkedFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  ChunkedFile(const ChunkedFile&) = delete;
  ChunkedFile& operator=(const ChunkedFile&) = delete;

  const char* data() const { return buf_.data(); }
  std::size_t pos() const { return pos_; }
  std::size_t end() const { return end_; }
  bool eof() const { return eof_; }
  void Consume(std::size_t to) { pos_ = to; }

  // Reads more bytes after end(); positions before pos() may move. Returns the shift applied to
  // offsets (offsets >= pos() become offset - shift). False when nothing more could be read.
  bool Refill(std::size_t& shift, const std::string& name) {
    shift = pos_;
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // one record longer than a chunk
    while (true) {
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw BadConfig(name + ": read error: " + std::strerror(errno));
      if (n == 0) {
        eof_ = true;
        return false;
      }
      end_ += static_cast<std::size_t>(n);
      return true;
    }
  }

 private:
  static constexpr std::size_t kChunk = 4 << 20;
  int fd_ = -1;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

class CsvReader final : public TableReader {
 public:
  CsvReader(const std::string& path, std::string name, char delimiter)
      : TableReader(std::move(name)), file_(path, name_), delim_(delimiter) {
    if (!ReadRecord()) throw BadConfig(name_ + ": the file is empty (no header line)");
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      std::string_view f = Trim(fields_[i]);
      if (i == 0 && f.substr(0, 3) == "\xEF\xBB\xBF") f.remove_prefix(3);  // UTF-8 BOM
      columns_.emplace_back(f);
    }
    header_line_ = line_;
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  std::size_t ColumnIndex(std::string_view name, std::string_view what) override {
    auto it = std::find(columns_.begin(), columns_.end(), name);
    if (it == columns_.end()) {
      std::string have;
      for (const auto& c : columns_) have += (have.empty() ? "" : ", ") + Quote(c);
      throw BadConfig(name_ + ":" + std::to_string(header_line_) + ": no column " + Quote(name) +
                      " (" + std::string(what) + "); the header has " + have);
    }
    return static_cast<std::size_t>(it - columns_.begin());
  }

  bool Next() override {
    if (!ReadRecord()) return false;
    ++rows_;
    if (fields_.size() != columns_.size()) {
      throw BadConfig(WhereLine() + ": " + std::to_string(fields_.size()) +
                      " fields, but the header has " + std::to_string(columns_.size()));
    }
    return true;
  }

  std::string_view Field(std::size_t index) const override { return fields_[index]; }
  const std::string& ColumnName(std::size_t index) const override { return columns_[index]; }

 private:
  // Reads one record into fields_, skipping blank lines; false at the end of the file.
  bool ReadRecord() {
    while (true) {
      std::size_t start = file_.pos();
      std::uint64_t lines = 0;
      int r = TryParse(start, lines);
      if (r == 1) {
        line_ = next_line_;
        next_line_ += lines;
        if (fields_.size() == 1 && fields_[0].empty() && !last_quoted_) continue;  // blank line
        return true;
      }
      if (r == 0) return false;
      std::size_t shift;
      if (!file_.Refill(shift, name_) && file_.pos() == file_.end()) return false;
    }
  }

  // 1: a record was parsed; 0: end of file; -1: need more bytes.
  int TryParse(std::size_t start, std::uint64_t& lines) {
    const char* d = file_.data();
    const std::size_t end = file_.end();
    if (start == end) return file_.eof() ? 0 : -1;
    fields_.clear();
    escaped_.clear();
    last_quoted_ = false;
    std::size_t i = start;
    lines = 1;
    while (true) {
      if (i < end && d[i] == '"') {
        // Quoted field: "" is a quote; delimiters and newlines inside are data.
        last_quoted_ = true;
        std::size_t j = i + 1;
        bool has_escape = false;
        std::uint64_t inner_lines = 0;
        while (true) {
          if (j >= end) {
            if (!file_.eof()) return -1;
            throw BadConfig(name_ + ":" + std::to_string(next_line_) +
                            ": unterminated quoted field");
          }
          if (d[j] == '"') {
            if (j + 1 >= end && !file_.eof()) return -1;
            if (j + 1 < end && d[j + 1] == '"') {
              has_escape = true;
              j += 2;
              continue;
            }
            break;
          }
          if (d[j] == '\n') ++inner_lines;
          ++j;
        }
        std::string_view raw(d + i + 1, j - i - 1);
        if (has_escape) {
          std::string& s = escaped_.emplace_back();
          for (std::size_t k = 0; k < raw.size(); ++k) {
            s.push_back(raw[k]);
            if (raw[k] == '"') ++k;
          }
          fields_.emplace_back(s);
        } else {
          fields_.push_back(raw);
        }
        lines += inner_lines;
        i = j + 1;
        // After the closing quote: a delimiter, the end of the line, or (leniently) blanks.
        while (i < end && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r')) ++i;
        if (i >= end) {
          if (!file_.eof()) return -1;
          file_.Consume(end);
          return 1;
        }
        if (d[i] == delim_) {
          ++i;
          continue;
        }
        if (d[i] == '\n') {
          file_.Consume(i + 1);
          return 1;
        }
        throw BadConfig(name_ + ":" + std::to_string(next_line_) +
                        ": unexpected text after a closing quote");
      }
      std::size_t j = i;
      while (j < end && d[j] != delim_ && d[j] != '\n') ++j;
      if (j >= end && !file_.eof()) return -1;
      std::size_t field_end = j;
      if (field_end > i && d[field_end - 1] == '\r') --field_end;
      fields_.emplace_back(d + i, field_end - i);
      if (j >= end) {
        file_.Consume(end);
        return 1;
      }
      if (d[j] == '\n') {
        file_.Consume(j + 1);
        return 1;
      }
      i = j + 1;
    }
  }

  ChunkedFile file_;
  char delim_;
  std::vector<std::string> columns_;
  std::vector<std::string_view> fields_;
  std::deque<std::string> escaped_;  // deque: views into it survive push_back
  bool last_quoted_ = false;
  std::uint64_t next_line_ = 1;
  std::uint64_t header_line_ = 1;
};

class JsonLinesReader final : public TableReader {
 public:
  JsonLinesReader(const std::string& path, std::string name)
      : TableReader(std::move(name)), file_(path, name_) {
    if (!ReadObject(pending_)) throw BadConfig(name_ + ": the file is empty (no JSON object)");
    has_pending_ = true;
    for (const auto& item : pending_.items()) columns_.push_back(item.key());
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  std::size_t ColumnIndex(std::string_view name, std::string_view what) override {
    std::string key(name);
    if (!pending_.is_null() && !pending_.contains(key)) {
      throw BadConfig(name_ + ":" + std::to_string(pending_line_) + ": no key " + Quote(name) +
                      " (" + std::string(what) + ")");
    }
    auto it = std::find(wanted_.begin(), wanted_.end(), key);
    if (it != wanted_.end()) return static_cast<std::size_t>(it - wanted_.begin());
    wanted_.push_back(key);
    values_.emplace_back();
    return wanted_.size() - 1;
  }

  bool Next() override {
    nlohmann::json obj;
    if (has_pending_) {
      obj = std::move(pending_);
      pending_ = nlohmann::json();
      has_pending_ = false;
      line_ = pending_line_;
    } else if (!ReadObject(obj)) {
      return false;
    } else {
      line_ = pending_line_;
    }
    ++rows_;
    for (std::size_t k = 0; k < wanted_.size(); ++k) {
      auto it = obj.find(wanted_[k]);
      if (it == obj.end()) throw BadConfig(WhereLine() + ": no key " + Quote(wanted_[k]));
      std::string& out = values_[k];
      if (it->is_string()) {
        out = it->get_ref<const std::string&>();
      } else if (it->is_number_integer() || it->is_number_unsigned()) {
        out = it->dump();
      } else if (it->is_number_float()) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, it->get<double>());
        out.assign(buf, r.ptr);
      } else if (it->is_boolean()) {
        out = it->get<bool>() ? "true" : "false";
      } else if (it->is_null()) {
        throw BadConfig(WhereLine() + ": key " + Quote(wanted_[k]) + " is null (missing value)");
      } else {
        throw BadConfig(WhereLine() + ": key " + Quote(wanted_[k]) +
                        " holds an object or array, not a value");
      }
    }
    return true;
  }

  std::string_view Field(std::size_t index) const override { return values_[index]; }
  const std::string& ColumnName(std::size_t index) const override { return wanted_[index]; }

 private:
  // Reads the next non-blank line as a JSON object.
  bool ReadObject(nlohmann::json& out) {
    while (true) {
      const char* d = file_.data();
      std::size_t start = file_.pos(), end = file_.end();
      const void* nl = start < end ? std::memchr(d + start, '\n', end - start) : nullptr;
      if (nl == nullptr && !file_.eof()) {
        std::size_t shift;
        file_.Refill(shift, name_);
        continue;
      }
      if (start == end) return false;
      std::size_t stop = nl ? static_cast<const char*>(nl) - d : end;
      std::string_view text = Trim(std::string_view(d + start, stop - start));
      file_.Consume(nl ? stop + 1 : end);
      std::uint64_t this_line = next_line_++;
      if (text.empty()) continue;
      try {
        out = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        throw BadConfig(name_ + ":" + std::to_string(this_line) + ": invalid JSON: " + e.what());
      }
      if (!out.is_object()) {
        throw BadConfig(name_ + ":" + std::to_string(this_line) + ": expected a JSON object");
      }
      pending_line_ = this_line;
      return true;
    }
  }

  ChunkedFile file_;
  std::vector<std::string> columns_;
  std::vector<std::string> wanted_;
  std::vector<std::string> values_;
  nlohmann::json pending_;
  bool has_pending_ = false;
  std::uint64_t pending_line_ = 0;
  std::uint64_t next_line_ = 1;
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

TableFormat ParseTableFormat(std::string_view text, std::string_view key) {
  if (text == "auto") return TableFormat::kAuto;
  if (text == "csv") return TableFormat::kCsv;
  if (text == "jsonl") return TableFormat::kJsonLines;
  throw BadConfig(std::string(key) + ": unknown format " + Quote(text));
}

std::unique_ptr<TableReader> TableReader::Open(const std::string& path, std::string display_name,
                                               TableFormat format, char delimiter) {
  if (format == TableFormat::kAuto) {
    format = EndsWith(path, ".jsonl") || EndsWith(path, ".ndjson") ? TableFormat::kJsonLines
                                                                   : TableFormat::kCsv;
  }
  if (format == TableFormat::kJsonLines) {
    return std::make_unique<JsonLinesReader>(path, std::move(display_name));
  }
  return std::make_unique<CsvReader>(path, std::move(display_name), delimiter);
}

std::string TableReader::WhereLine() const { return name_ + ":" + std::to_string(line_); }

std::string TableReader::Where(std::size_t index) const {
  return WhereLine() + ": column " + Quote(ColumnName(index));
}

double TableReader::Number(std::size_t index) const {
  std::string_view text = Field(index);
  double v;
  if (!ParseDouble(text, v)) {
    if (Trim(text).empty()) throw BadConfig(Where(index) + ": empty value (missing)");
    throw BadConfig(Where(index) + ": " + Quote(text) + " is not a number");
  }
  if (!std::isfinite(v)) {
    throw BadConfig(Where(index) + ": " + Quote(text) + " is not a finite number");
  }
  return v;
}

bool ParseDouble(std::string_view text, double& out) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

std::string CanonicalLabel(std::string_view text) {
  text = Trim(text);
  double v;
  if (ParseDouble(text, v) && std::isfinite(v)) {
    if (v == 0) v = 0;  // -0 and 0 are one class
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  }
  return std::string(text);
}

}  // namespace stagehost::model_validation
