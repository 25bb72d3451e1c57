// Diagnostics: collection, rendering (file:line:col, the line, a caret), and the
// edit distance behind did-you-mean. See diagnostics.h.
#include "supervisor/config/diagnostics.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "common/utf8.h"

namespace wsgid::config {
namespace {

constexpr int kTabStop = 8;
constexpr int kGutterWidth = 5;

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

std::string location_prefix(const SourceLoc& loc) {
  std::string out = loc.file;
  if (loc.line > 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(loc.line);
    if (loc.col > 0) {
      out += ':';
      out += std::to_string(loc.col);
    }
  }
  if (!out.empty()) out += ": ";
  return out;
}

std::string plural(size_t n, const char* word) {
  std::string s = std::to_string(n) + " " + word;
  if (n != 1) s += 's';
  return s;
}

}  // namespace

void Diagnostics::error(SourceLoc loc, std::string message, std::vector<std::string> notes) {
  add(Diagnostic{Severity::kError, std::move(loc), std::move(message), std::move(notes)});
}

void Diagnostics::warning(SourceLoc loc, std::string message, std::vector<std::string> notes) {
  add(Diagnostic{Severity::kWarning, std::move(loc), std::move(message), std::move(notes)});
}

void Diagnostics::add(Diagnostic d) {
  if (d.severity == Severity::kError) ++errors_;
  if (d.severity == Severity::kWarning) ++warnings_;
  items_.push_back(std::move(d));
}

void Diagnostics::add_source(const std::string& file, std::string text) {
  if (first_source_.empty()) first_source_ = file;
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  sources_[file] = std::move(lines);
}

std::string_view Diagnostics::line_text(const std::string& file, int line) const {
  auto it = sources_.find(file);
  if (it == sources_.end() || line < 1 || static_cast<size_t>(line) > it->second.size()) return {};
  return it->second[line - 1];
}

std::string Diagnostics::render(const Diagnostic& d) const {
  std::string out = location_prefix(d.loc);
  out += severity_name(d.severity);
  out += ": ";
  out += d.message;
  out += '\n';

  auto src = sources_.find(d.loc.file);
  if (d.loc.line > 0 && src != sources_.end() &&
      static_cast<size_t>(d.loc.line) <= src->second.size()) {
    std::string_view text = src->second[d.loc.line - 1];
    // The shown line: tabs expanded, control characters and invalid bytes as '?'
    // (one column each, as the lexer counted them). caret_start/caret_end are
    // display columns (0-based) of the underlined characters.
    std::string shown;
    int display = 0, ch = 1;
    int caret_start = -1, caret_end = -1;
    int first = d.loc.col, last = d.loc.col + std::max(d.loc.len, 1) - 1;
    for (size_t i = 0; i < text.size(); ++ch) {
      utf8::Char uc = utf8::decode(text, i);
      size_t n = uc.len;
      int width = 1;
      if (text[i] == '\t') {
        width = kTabStop - display % kTabStop;
        shown.append(width, ' ');
      } else if (uc.cp < 0x20 || uc.cp == 0x7F) {
        shown += '?';
      } else {
        shown.append(text.substr(i, n));
      }
      if (ch == first) caret_start = display;
      if (ch >= first && ch <= last) caret_end = display + width;
      display += width;
      i += n;
    }
    if (caret_start < 0 && d.loc.col > 0) {  // at or past the end of the line
      caret_start = display + (first - ch);
      caret_end = caret_start + 1;
    }
    std::string number = std::to_string(d.loc.line);
    int gutter = std::max<int>(kGutterWidth, static_cast<int>(number.size()));
    out += std::string(gutter - number.size(), ' ') + number + " | " + shown + '\n';
    if (d.loc.col > 0) {
      out += std::string(gutter, ' ') + " | " + std::string(caret_start, ' ') + '^';
      out += std::string(std::max(caret_end - caret_start - 1, 0), '~');
      out += '\n';
    }
  }

  for (const std::string& note : d.notes) {
    out += location_prefix(d.loc);
    out += "note: ";
    out += note;
    out += '\n';
  }
  return out;
}

std::string Diagnostics::render_all() const {
  std::string out;
  for (const Diagnostic& d : items_) out += render(d);
  if (errors_ == 0 && warnings_ == 0) return out;
  if (!first_source_.empty()) out += first_source_ + ": ";
  if (errors_ > 0) out += plural(errors_, "error");
  if (errors_ > 0 && warnings_ > 0) out += ", ";
  if (warnings_ > 0) out += plural(warnings_, "warning");
  out += " generated.\n";
  return out;
}

int edit_distance(std::string_view a, std::string_view b, bool fold_case) {
  // One row of the Levenshtein matrix at a time: row[x] is the distance between
  // the first y characters of a and the first x characters of b.
  auto same = [fold_case](char x, char y) {
    if (fold_case) {
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    }
    return x == y;
  };
  std::vector<int> row(b.size() + 1);
  for (size_t x = 0; x <= b.size(); ++x) row[x] = static_cast<int>(x);
  for (size_t y = 1; y <= a.size(); ++y) {
    int diagonal = row[0];  // row[x-1] of the previous row
    row[0] = static_cast<int>(y);
    for (size_t x = 1; x <= b.size(); ++x) {
      int above = row[x];
      int replace = diagonal + (same(a[y - 1], b[x - 1]) ? 0 : 1);
      row[x] = std::min({replace, row[x - 1] + 1, above + 1});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates,
                         int max_distance) {
  if (max_distance < 0) max_distance = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string_view best;
  int best_distance = max_distance + 1;
  for (std::string_view c : candidates) {
    // The distance is at least the difference in length: a long word (a line of
    // garbage) is compared with nothing, instead of costing length x candidates.
    size_t diff = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (diff >= static_cast<size_t>(best_distance)) continue;
    int d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace wsgid::config
