// Apache configuration syntax: physical lines -> logical lines -> words ->
// a tree of directives, with <IfModule>/<IfDefine>/<IfVersion> evaluated,
// Define/UnDefine applied, ${NAME} substituted and Include spliced.
// See syntax.h. The reference for every rule is httpd's own reader:
// ap_cfg_getline (continuation), ap_getword_conf (words and quotes),
// ap_build_config_sub / ap_soak_end_container (sections),
// process_resource_config_{nofnmatch,fnmatch} (Include), ap_resolve_env and
// set_define / unset_define in core.c (variables), and mod_version.c.
//
// This file is the core reader (lines, words, sections, directives) and the
// entry points; conditions, includes and typographic quotes have their own
// files (syntax_reader.h lists them).
#include "supervisor/config/syntax.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/paths.h"
#include "common/strings.h"
#include "common/utf8.h"
#include "supervisor/config/syntax_reader.h"

namespace wsgid::config {
namespace syntax_detail {

using utf8::Char;
using utf8::decode;


namespace {

std::string hex_byte(unsigned char c) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  s += kDigits[c >> 4];
  s += kDigits[c & 15];
  return s;
}

// The 1-based column of byte `offset` in a physical line.
int column_at(std::string_view line, size_t offset) {
  int col = 1;
  for (size_t i = 0; i < offset && i < line.size(); i += decode(line, i).len) ++col;
  return col;
}

// Physical lines of a file: [begin, end) byte ranges without the newline and
// without a CR before it.
std::vector<std::pair<size_t, size_t>> split_lines(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    if (end > start && text[end - 1] == '\r') --end;
    lines.emplace_back(start, end);
    start = next;
  }
  return lines;
}

// Whether physical line `number` starts a comment: '#' as its first non-blank
// character (after a BOM on line 1).
bool starts_comment(std::string_view line, int number) {
  size_t k = 0;
  if (number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") k = 3;  // a BOM
  while (k < line.size() && is_space(line[k])) ++k;
  return k < line.size() && line[k] == '#';
}

// Appends part of physical line `number` to *out, each byte with its position.
void append_physical(std::string_view kept, int number, LogicalLine* out) {
  int col = 1;
  for (size_t i = 0; i < kept.size();) {
    size_t n = decode(kept, i).len;
    for (size_t k = 0; k < n; ++k) out->pos.push_back(Pos{number, col});
    out->text.append(kept.substr(i, n));
    i += n;
    ++col;
  }
}

}  // namespace

SourceLoc Reader::loc_of(const std::string& name, const LogicalLine& l, size_t begin,
                         size_t end) const {
  Pos p = l.pos[std::min(begin, l.text.size())];
  int last = p.col;
  for (size_t k = begin; k < end && k < l.text.size(); ++k) {
    if (l.pos[k].line != p.line) break;
    last = l.pos[k].col;
  }
  return SourceLoc{name, p.line, p.col, std::max(last - p.col + 1, 1)};
}

// Reports a NUL byte or invalid UTF-8 in one physical line (once per line).
// In a comment it is only a warning: httpd ignores comments, and old files
// often have Latin-1 comments. Returns false when the line is bad.
bool Reader::check_physical_line(const std::string& name, std::string_view line, int number,
                                 bool in_comment) {
  int col = 1;
  for (size_t i = 0; i < line.size(); ++col) {
    Char c = decode(line, i);
    std::string message;
    if (c.cp == 0) {
      message = "NUL byte in configuration text";
    } else if (c.cp < 0) {
      message = "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(line[i])) +
                "); configuration files must be UTF-8";
    }
    if (!message.empty()) {
      SourceLoc loc{name, number, col, 1};
      if (in_comment) {
        diags_->warning(loc, message + " (in a comment)");
        return true;
      }
      diags_->error(loc, message);
      return false;
    }
    i += c.len;
  }
  return true;
}

// Joins physical lines from *index into one logical line, as ap_cfg_getline:
// a backslash that is the line's last character (and not itself escaped by
// another backslash) is removed and the next line appended as it is.
bool Reader::next_logical_line(const std::string& name, std::string_view text,
                               const std::vector<std::pair<size_t, size_t>>& lines, size_t* index,
                               LogicalLine* out) {
  if (*index >= lines.size()) return false;
  out->text.clear();
  out->pos.clear();
  out->bad = false;
  bool first = true, comment = false, too_long = false;
  int line_number = 0;
  while (*index < lines.size()) {
    auto [begin, end] = lines[*index];
    line_number = static_cast<int>(*index) + 1;
    ++*index;
    std::string_view line = text.substr(begin, end - begin);
    if (first) comment = starts_comment(line, line_number);
    if (!check_physical_line(name, line, line_number, comment)) out->bad = true;
    // httpd's code (not its comment) continues at any final backslash.
    bool cont = !line.empty() && line.back() == '\\';
    std::string_view kept = cont ? line.substr(0, line.size() - 1) : line;
    if (out->text.size() + kept.size() > kMaxLineLength) {
      too_long = true;
    } else {
      append_physical(kept, line_number, out);
    }
    if (!cont) {
      size_t trimmed = line.size();
      while (trimmed > 0 && (line[trimmed - 1] == ' ' || line[trimmed - 1] == '\t')) --trimmed;
      if (trimmed < line.size() && trimmed > 0 && line[trimmed - 1] == '\\' && !comment) {
        diags_->warning(SourceLoc{name, line_number, column_at(line, trimmed - 1), 1},
                        "backslash followed by white space does not continue the line",
                        {"remove the white space after the backslash to join the next line"});
      }
      break;
    }
    if (comment && *index < lines.size()) {
      diags_->warning(SourceLoc{name, line_number, column_at(line, line.size() - 1), 1},
                      "comment ends with a backslash: the next line is part of the comment",
                      {"httpd joins the lines before it looks for '#'"});
    }
    first = false;
  }
  // The end position: just past the last character.
  if (out->pos.empty()) {
    out->pos.push_back(Pos{line_number, 1});
  } else {
    Pos last = out->pos.back();
    out->pos.push_back(Pos{last.line, last.col + 1});
  }
  if (too_long) {
    diags_->error(SourceLoc{name, line_number, 0, 1},
                  "line longer than " + std::to_string(kMaxLineLength) + " bytes");
    out->bad = true;
  }
  return true;
}

// Splits [begin, end) into words as ap_getword_conf: quotes matter only at a
// word's start; inside them a backslash escapes the quote or a backslash.
std::vector<Word> Reader::split_words(const std::string& name, const LogicalLine& l, size_t begin,
                                      size_t end, bool report) {
  const std::string& s = l.text;
  std::vector<Word> words;
  size_t i = begin;
  while (true) {
    while (i < end && is_space(s[i])) ++i;
    if (i >= end) break;
    Word w;
    w.begin = i;
    char quote = s[i];
    size_t j;
    if (quote == '"' || quote == '\'') {
      j = i + 1;
      while (j < end && s[j] != quote) {
        if (s[j] == '\\' && j + 1 < end && (s[j + 1] == quote || s[j + 1] == '\\')) {
          w.arg.text += s[j + 1];
          j += 2;
        } else {
          w.arg.text += s[j++];
        }
      }
      w.arg.quoted = true;
      if (j >= end) {
        if (report) {
          SourceLoc loc = loc_of(name, l, i, i + 1);
          diags_->error(loc, std::string("unterminated quoted argument: no closing ") + quote,
                        {std::string("add the closing ") + quote + " before the end of the line"});
        }
      } else {
        ++j;  // the closing quote
      }
    } else {
      j = i;
      while (j < end && !is_space(s[j])) {
        if (s[j] == '\\' && j + 1 < end && s[j + 1] == '\\') {
          w.arg.text += '\\';
          j += 2;
        } else {
          w.arg.text += s[j++];
        }
      }
    }
    w.end = std::min(j, end);
    w.arg.loc = loc_of(name, l, w.begin, w.end);
    words.push_back(std::move(w));
    i = j;
  }
  return words;
}

// Reads one file's text line by line: each logical line is a comment, a blank,
// a section tag or a directive (read_line); what is still open at the end is
// reported and closed (close_at_end_of_file).
void Reader::read_text(const std::string& name, std::string_view text, int depth, int nesting,
                       std::vector<Directive>* out) {
  auto lines = split_lines(text);
  FileRead f{name, depth, nesting, out, {}, 0};
  size_t index = 0;
  LogicalLine l;
  while (next_logical_line(name, text, lines, &index, &l)) {
    if (l.bad) continue;
    read_line(&f, &l);
  }
  close_at_end_of_file(&f, l, lines.size());
}

// One logical line: skip its indentation, substitute ${NAME} in a live line,
// then read the section tag or the directive it holds.
void Reader::read_line(FileRead* f, LogicalLine* l) {
  const std::string& s = l->text;
  size_t i = skip_indentation(*f, *l);
  if (i >= s.size() || s[i] == '#') return;
  bool live = f->active();
  if (live) {
    if (!substitute(f->name, l, i)) return;
    while (i < s.size() && is_space(s[i])) ++i;  // a value may be blank
    if (i >= s.size()) return;
  }

  if (s[i] == '<') {
    SectionTag tag;
    if (!parse_section_tag(*f, *l, i, &tag)) return;
    if (tag.closing) {
      close_section(f, *l, tag);
    } else {
      open_section(f, *l, tag, live);
    }
    return;
  }
  read_directive(f, *l, i, live);
}

// The offset of the line's first word: past a BOM on line 1 and white space.
// Unicode spaces before the first word (indentation pasted from a web page)
// are skipped too, with a warning in a live line; httpd would take them as part
// of the directive name.
size_t Reader::skip_indentation(const FileRead& f, const LogicalLine& l) {
  const std::string& s = l.text;
  size_t i = 0;
  if (l.pos[0].line == 1 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  while (i < s.size() && is_space(s[i])) ++i;
  size_t unicode_space = std::string::npos;
  while (i < s.size()) {
    Char c = decode(s, i);
    if (is_space(s[i])) {
      ++i;
    } else if (unicode_space_name(c.cp)) {
      if (unicode_space == std::string::npos) unicode_space = i;
      i += c.len;
    } else {
      break;
    }
  }
  if (unicode_space != std::string::npos && f.active()) {
    warn_unicode_indentation(f.name, l, unicode_space);
  }
  return i;
}

// "<Name args>" or "</Name>" at byte `at`: the name, where the arguments end
// and the missing '>' reported. False (reported) when there is no name.
bool Reader::parse_section_tag(const FileRead& f, const LogicalLine& l, size_t at,
                               SectionTag* tag) {
  const std::string& s = l.text;
  tag->closing = at + 1 < s.size() && s[at + 1] == '/';
  tag->name_begin = at + (tag->closing ? 2 : 1);
  size_t name_end = tag->name_begin;
  while (name_end < s.size() && !is_space(s[name_end]) && s[name_end] != '>') ++name_end;
  tag->name_end = name_end;
  tag->section = s.substr(tag->name_begin, name_end - tag->name_begin);
  tag->tag_loc = loc_of(f.name, l, at, name_end);
  if (tag->section.empty()) {
    diags_->error(tag->tag_loc,
                  tag->closing ? "'</' without a section name" : "'<' without a section name");
    return false;
  }
  // The last non-blank character must be '>' (httpd strips it).
  size_t last = s.size();
  while (last > name_end && is_space(s[last - 1])) --last;
  tag->args_end = last;
  if (last > name_end && s[last - 1] == '>') {
    tag->args_end = last - 1;
  } else {
    diags_->error(loc_of(f.name, l, last, last + 1),
                  std::string(tag->closing ? "</" : "<") + tag->section +
                      "> directive missing closing '>'",
                  {"add '>' at the end of the line"});
  }
  return true;
}

// "</Name>": closes the innermost open section of that name; sections left open
// inside it are reported (each with where it opened) and closed too.
void Reader::close_section(FileRead* f, const LogicalLine& l, const SectionTag& tag) {
  const std::string& s = l.text;
  const std::string& section = tag.section;
  size_t extra = tag.name_end;
  while (extra < tag.args_end && is_space(s[extra])) ++extra;
  if (extra < tag.args_end) {
    diags_->error(loc_of(f->name, l, extra, tag.args_end), "</" + section + "> takes no arguments");
  }
  if (f->overflow > 0) {
    --f->overflow;
    return;
  }
  // Which open section does it close? The innermost of that name.
  std::vector<Frame>& stack = f->stack;
  size_t match = stack.size();
  while (match > 0 && !iequals(stack[match - 1].dir.name, section)) --match;
  if (match == 0) {
    diags_->error(tag.tag_loc, "</" + section + "> without matching <" + section + "> section");
    return;
  }
  if (match != stack.size()) {
    const Directive& inner = stack.back().dir;
    diags_->error(tag.tag_loc, "expected </" + inner.name + "> but saw </" + section + ">");
    // Every section left open inside the closed one: say where it opened.
    for (size_t k = stack.size(); k > match; --k) {
      const Directive& open = stack[k - 1].dir;
      SourceLoc at = open.loc;
      at.col = std::max(at.col - 1, 1);  // at '<'
      at.len = static_cast<int>(open.name.size()) + 1;
      diags_->add(Diagnostic{Severity::kNote, at, "<" + open.name + "> opened here, never closed", {}});
    }
    while (stack.size() > match) pop_section(f);
  }
  pop_section(f);
}

// "<Name args>": opens a section, or a conditional evaluated now (in a live
// line). Past kMaxSectionDepth sections are counted, not kept.
void Reader::open_section(FileRead* f, const LogicalLine& l, const SectionTag& tag, bool live) {
  const std::string& section = tag.section;
  Frame fr;
  fr.dir.name = section;
  fr.dir.loc = loc_of(f->name, l, tag.name_begin, tag.name_end);
  fr.dir.is_section = true;
  for (Word& w : split_words(f->name, l, tag.name_end, tag.args_end, live)) {
    if (live) warn_typographic(f->name, l, w);
    fr.dir.args.push_back(std::move(w.arg));
  }
  if (f->depth_of_sections() >= kMaxSectionDepth || f->overflow > 0) {
    if (f->overflow == 0) {
      diags_->error(tag.tag_loc, "sections nested deeper than " + std::to_string(kMaxSectionDepth));
    }
    ++f->overflow;
    return;
  }
  fr.conditional = iequals(section, "IfModule") || iequals(section, "IfDefine") ||
                   iequals(section, "IfVersion");
  fr.condition = fr.conditional && live ? evaluate_condition(fr.dir) : false;
  fr.active = live && (!fr.conditional || fr.condition);
  if (!fr.conditional) ++open_sections_;
  f->stack.push_back(std::move(fr));
}

// A plain directive at byte `at`: its name and arguments (with the warnings of
// a live line), then, when live, what it does (apply_directive).
void Reader::read_directive(FileRead* f, const LogicalLine& l, size_t at, bool live) {
  const std::string& s = l.text;
  size_t name_end = at;
  while (name_end < s.size() && !is_space(s[name_end])) ++name_end;
  Directive d;
  d.name = s.substr(at, name_end - at);
  d.loc = loc_of(f->name, l, at, name_end);
  for (Word& w : split_words(f->name, l, name_end, s.size(), live)) {
    if (live) {
      warn_typographic(f->name, l, w);
      if (!w.arg.quoted && !w.arg.text.empty() && w.arg.text[0] == '#') {
        diags_->warning(w.arg.loc, "'#' starts a comment only at the beginning of a line; here it is an argument",
                        {"move the comment to a line of its own"});
      }
    }
    d.args.push_back(std::move(w.arg));
  }
  if (!live) return;
  apply_directive(f, std::move(d));
}

// What this layer does with a live directive: Define/UnDefine are consumed,
// ServerRoot moves the Include base (and stays), Include splices the included
// directives; anything else joins the current section.
void Reader::apply_directive(FileRead* f, Directive d) {
  if (iequals(d.name, "Define") || iequals(d.name, "UnDefine")) {
    handle_define(d);
    return;
  }
  if (iequals(d.name, "ServerRoot")) handle_server_root(d);  // and kept for the parser
  bool include = iequals(d.name, "Include");
  if (include || iequals(d.name, "IncludeOptional")) {
    handle_include(d, !include, f->depth, f->depth_of_sections(), f->current());
    return;
  }
  f->current()->push_back(std::move(d));
}

// Closes the top frame: a kept section joins its parent; a true conditional
// splices its children; a false one vanishes.
void Reader::pop_section(FileRead* f) {
  Frame fr = std::move(f->stack.back());
  f->stack.pop_back();
  if (!fr.conditional) --open_sections_;
  std::vector<Directive>* parent = f->current();
  if (!fr.active && !fr.conditional) return;
  if (fr.conditional) {
    if (fr.condition && fr.active) {
      for (Directive& c : fr.dir.children) parent->push_back(std::move(c));
    }
    return;
  }
  parent->push_back(std::move(fr.dir));
}

// Sections still open at the end of the file: an error at the end (after the
// last logical line read) and a note where each opened; what was read is kept.
void Reader::close_at_end_of_file(FileRead* f, const LogicalLine& last, size_t line_count) {
  if (f->stack.empty()) return;
  Pos end = last.pos.empty() ? Pos{static_cast<int>(line_count), 1} : last.pos.back();
  if (line_count == 0) end = Pos{1, 1};
  for (size_t k = f->stack.size(); k > 0; --k) {
    const Directive& open = f->stack[k - 1].dir;
    diags_->error(SourceLoc{f->name, end.line, end.col, 1},
                  "missing </" + open.name + "> before the end of the file");
    SourceLoc at = open.loc;
    at.col = std::max(at.col - 1, 1);
    at.len = static_cast<int>(open.name.size()) + 1;
    diags_->add(Diagnostic{Severity::kNote, at, "<" + open.name + "> opened here", {}});
  }
  // Keep what was read: close everything as if the file closed it.
  while (!f->stack.empty()) pop_section(f);
}

namespace {

std::string base_dir_for(const std::string& main, const SyntaxOptions& options) {
  std::string base =
      options.server_root.empty() ? std::string(directory_of(main)) : options.server_root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace
}  // namespace syntax_detail

using syntax_detail::base_dir_for;
using syntax_detail::kMaxFileSize;
using syntax_detail::Reader;

std::vector<Directive> read_config_file(const std::string& path, const SyntaxOptions& options,
                                        Diagnostics* diags) {
  std::vector<Directive> out;
  Reader reader(options, diags, base_dir_for(path, options));
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    diags->error(SourceLoc{path, 0, 0, 1}, "'" + path + "' is a directory, not a configuration file");
    return out;
  }
  reader.read_file(path, SourceLoc{path, 0, 0, 1}, 0, 0, &out);
  return out;
}

std::vector<Directive> read_config_text(const std::string& name, const std::string& text,
                                        const SyntaxOptions& options, Diagnostics* diags) {
  std::vector<Directive> out;
  diags->add_source(name, text);
  if (text.size() > kMaxFileSize) {
    diags->error(SourceLoc{name, 0, 0, 1},
                 "'" + name + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
    return out;
  }
  Reader reader(options, diags, base_dir_for(name, options));
  reader.read_text(name, text, 0, 0, &out);
  return out;
}

}  // namespace wsgid::config
