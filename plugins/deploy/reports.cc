// reports.cc -- JUnit XML (one case per gate) and the GitLab dotenv report.
#include <map>

#include "deploy.h"

namespace stagehost::deploy {

namespace {
std::string Xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += ' ';
        else
          out.push_back(c);
    }
  }
  return out;
}
}  // namespace

std::string JUnitXml(const std::vector<Gate>& gates) {
  std::map<std::string, std::vector<const Gate*>> suites;
  std::vector<std::string> order;
  for (const Gate& g : gates) {
    if (!suites.count(g.suite)) order.push_back(g.suite);
    suites[g.suite].push_back(&g);
  }
  auto count = [](const std::vector<const Gate*>& v, Gate::Status s) {
    int n = 0;
    for (const Gate* g : v) n += g->status == s;
    return n;
  };
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"deploy\" tests=\"" +
      std::to_string(gates.size()) + "\">\n";
  for (const std::string& name : order) {
    const auto& v = suites[name];
    out += "  <testsuite name=\"deploy." + Xml(name) + "\" tests=\"" + std::to_string(v.size()) +
           "\" failures=\"" + std::to_string(count(v, Gate::Status::kFailed)) + "\" skipped=\"" +
           std::to_string(count(v, Gate::Status::kSkipped)) + "\">\n";
    for (const Gate* g : v) {
      out += "    <testcase classname=\"deploy." + Xml(name) + "\" name=\"" + Xml(g->name) + "\"";
      if (g->status == Gate::Status::kPassed) {
        out += g->message.empty()
                   ? "/>\n"
                   : "><system-out>" + Xml(g->message) + "</system-out></testcase>\n";
      } else if (g->status == Gate::Status::kSkipped) {
        out += "><skipped message=\"" + Xml(g->message) + "\"/></testcase>\n";
      } else {
        out += "><failure message=\"" + Xml(g->message) + "\" type=\"gate\">" + Xml(g->message) +
               "</failure></testcase>\n";
      }
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

std::string Dotenv(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  for (const auto& [key, value] : entries) {
    std::string v;
    for (char c : value) v.push_back(c == '\n' || c == '\r' ? ' ' : c);
    out += key + "=" + v + "\n";
  }
  return out;
}

}  // namespace stagehost::deploy
