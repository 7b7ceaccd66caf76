// condition.cc -- a tiny recursive-descent parser for success conditions.
#include "condition.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace stagehost::deploy {

namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool Eat(std::string_view token) {
    SkipSpace();
    if (s_.substr(i_, token.size()) == token) {
      i_ += token.size();
      return true;
    }
    return false;
  }
  [[noreturn]] void Fail(const std::string& expected) const {
    throw std::invalid_argument("condition \"" + std::string(s_) + "\": expected " + expected +
                                " at column " + std::to_string(i_ + 1));
  }
  Condition::Op ParseOp() {
    if (Eat("<=")) return Condition::Op::kLe;
    if (Eat(">=")) return Condition::Op::kGe;
    if (Eat("==")) return Condition::Op::kEq;
    if (Eat("!=")) return Condition::Op::kNe;
    if (Eat("<")) return Condition::Op::kLt;
    if (Eat(">")) return Condition::Op::kGt;
    Fail("a comparison (<, <=, >, >=, ==, !=)");
  }
  double ParseNumber() {
    SkipSpace();
    std::string token;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              s_[i_] == '-' || s_[i_] == '+' || s_[i_] == 'e' || s_[i_] == 'E')) {
      token.push_back(s_[i_++]);
    }
    if (token.empty()) Fail("a number");
    char* end = nullptr;
    double v = std::strtod(token.c_str(), &end);
    if (*end != '\0' || !std::isfinite(v)) {
      i_ -= token.size();
      Fail("a number");
    }
    return v;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Condition Condition::Parse(std::string_view text) {
  Condition c;
  c.text_ = std::string(text);
  Parser p(text);
  do {
    if (!p.Eat("result")) p.Fail("\"result\"");
    Op op = p.ParseOp();
    c.clauses_.push_back({op, p.ParseNumber()});
  } while (p.Eat("&&"));
  if (!p.AtEnd()) p.Fail("\"&&\" or the end");
  return c;
}

bool Condition::Holds(double r) const {
  if (std::isnan(r)) return false;
  for (const Clause& c : clauses_) {
    bool ok = false;
    switch (c.op) {
      case Op::kLt:
        ok = r < c.value;
        break;
      case Op::kLe:
        ok = r <= c.value;
        break;
      case Op::kGt:
        ok = r > c.value;
        break;
      case Op::kGe:
        ok = r >= c.value;
        break;
      case Op::kEq:
        ok = r == c.value;
        break;
      case Op::kNe:
        ok = r != c.value;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace stagehost::deploy
