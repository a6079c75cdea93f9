#include "actors/enricher/prefix_list.hpp"

#include <fstream>
#include <sstream>

namespace tidewatch {

bool prefix_list::parse(const std::string& text, const std::string& file, prefix_list& out,
                        std::vector<std::string>& errors) {
  prefix_list list;
  std::istringstream lines(text);
  std::string line;
  size_t errors_before = errors.size();
  for (int number = 1; std::getline(lines, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.resize(hash);
    std::istringstream words(line);
    std::string prefix_text, name, extra;
    if (!(words >> prefix_text))
      continue;
    words >> name;
    auto where = file + ":" + std::to_string(number) + ": ";
    if (words >> extra) {
      errors.push_back(where + "unexpected '" + extra + "' after the name '" + name +
                       "' (expected: PREFIX [NAME])");
      continue;
    }
    entry e;
    if (!ip_prefix::parse(prefix_text, e.prefix)) {
      errors.push_back(where + "'" + prefix_text + "' is not an IP address or prefix");
      continue;
    }
    e.name = std::move(name);
    if (!e.name.empty())
      e.name_label = list.names_.add(e.name);
    list.entries_.push_back(std::move(e));
    list.table_.add(list.entries_.back().prefix, uint32_t(list.entries_.size()));
  }
  if (errors.size() != errors_before)
    return false;
  list.table_.build();
  out = std::move(list);
  return true;
}

bool prefix_list::load(const std::string& path, prefix_list& out,
                       std::vector<std::string>& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.push_back(path + ": cannot read the prefix list");
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, out, errors);
}

} // namespace tidewatch
