#pragma once

#include <string>
#include <vector>

#include "actors/common/ip_prefix.hpp"
#include "actors/enricher/prefix_table.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

/// Our own prefixes: which addresses are "ours" (direction and scope) and the
/// site or name each belongs to.
///
/// File format, one prefix per line: `PREFIX [NAME]`, where PREFIX is an IPv4
/// or IPv6 address or prefix and NAME an optional word (site, customer, ...);
/// `#` starts a comment; blank lines are ignored.
class prefix_list {
public:
  struct entry {
    ip_prefix prefix;
    std::string name;        ///< empty when the line had none
    uint32_t name_label = 0; ///< name's index in names(); 0 when empty
  };

  /// Parses file text; `file` names it in errors ("file:line: message").
  /// A list with any bad line is rejected as a whole, so that a typo never
  /// silently re-tags traffic.
  static bool parse(const std::string& text, const std::string& file, prefix_list& out,
                    std::vector<std::string>& errors);

  /// Reads and parses a file.
  static bool load(const std::string& path, prefix_list& out, std::vector<std::string>& errors);

  /// The longest of our prefixes holding a, or nullptr.
  const entry* match(const ip_address& a) const {
    uint32_t index = table_.lookup(a);
    return index == prefix_table::no_match ? nullptr : &entries_[index - 1];
  }

  /// match() of n addresses, side by side (prefix_table::lookup): out[i] is
  /// the 1-based index into entries() of in[i]'s match, 0 for none.
  void match(const ip_address* in, size_t n, uint32_t* out) const { table_.lookup(in, n, out); }

  const std::vector<entry>& entries() const { return entries_; }
  /// The entries' names in one table, which batches refer to instead of
  /// copying a name per batch (label_table::shared).
  const label_table& names() const { return names_; }
  size_t memory_bytes() const { return table_.memory_bytes(); }

private:
  std::vector<entry> entries_;
  label_table names_;
  prefix_table table_;
};

} // namespace tidewatch
