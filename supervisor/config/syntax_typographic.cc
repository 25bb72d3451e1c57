// Typographic quotes and Unicode spaces in configuration text: the characters
// people paste from word processors and web pages where ASCII quotes or spaces
// belong. httpd does not treat them as quotes or white space; neither do we,
// but we say so, with the fix. See syntax_reader.h.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "supervisor/config/syntax_reader.h"

namespace wsgid::config::syntax_detail {

using utf8::Char;
using utf8::decode;

namespace {

constexpr std::array<TypographicQuote, 20> kTypographicQuotes = {{
    {0x00AB, "LEFT-POINTING DOUBLE ANGLE QUOTATION MARK", '"'},
    {0x00BB, "RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK", '"'},
    {0x00B4, "ACUTE ACCENT", '\''},
    {0x2018, "LEFT SINGLE QUOTATION MARK", '\''},
    {0x2019, "RIGHT SINGLE QUOTATION MARK", '\''},
    {0x201A, "SINGLE LOW-9 QUOTATION MARK", '\''},
    {0x201B, "SINGLE HIGH-REVERSED-9 QUOTATION MARK", '\''},
    {0x201C, "LEFT DOUBLE QUOTATION MARK", '"'},
    {0x201D, "RIGHT DOUBLE QUOTATION MARK", '"'},
    {0x201E, "DOUBLE LOW-9 QUOTATION MARK", '"'},
    {0x201F, "DOUBLE HIGH-REVERSED-9 QUOTATION MARK", '"'},
    {0x2032, "PRIME", '\''},
    {0x2033, "DOUBLE PRIME", '"'},
    {0x2035, "REVERSED PRIME", '\''},
    {0x2036, "REVERSED DOUBLE PRIME", '"'},
    {0x2039, "SINGLE LEFT-POINTING ANGLE QUOTATION MARK", '\''},
    {0x203A, "SINGLE RIGHT-POINTING ANGLE QUOTATION MARK", '\''},
    {0x301D, "REVERSED DOUBLE PRIME QUOTATION MARK", '"'},
    {0xFF02, "FULLWIDTH QUOTATION MARK", '"'},
    {0xFF07, "FULLWIDTH APOSTROPHE", '\''},
}};

std::string code_point_name(int32_t cp) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string hex;
  for (int shift = cp > 0xFFFF ? 16 : 12; shift >= 0; shift -= 4) hex += kDigits[(cp >> shift) & 15];
  return "U+" + hex;
}

}  // namespace

const TypographicQuote* typographic_quote(int32_t cp) {
  for (const TypographicQuote& q : kTypographicQuotes) {
    if (q.cp == cp) return &q;
  }
  return nullptr;
}

// Unicode spaces that web pages put where an ASCII space belongs (indentation
// copied from an article). Not white space to httpd.
const char* unicode_space_name(int32_t cp) {
  switch (cp) {
    case 0x00A0: return "NO-BREAK SPACE";
    case 0x2002: return "EN SPACE";
    case 0x2003: return "EM SPACE";
    case 0x2009: return "THIN SPACE";
    case 0x200B: return "ZERO WIDTH SPACE";
    case 0x202F: return "NARROW NO-BREAK SPACE";
    case 0x3000: return "IDEOGRAPHIC SPACE";
    case 0xFEFF: return "ZERO WIDTH NO-BREAK SPACE";
    default: break;
  }
  if (cp >= 0x2000 && cp <= 0x200A) return "SPACE";
  return nullptr;
}

namespace {

// What a word with typographic quotes meant: typographic quotes at its edges
// (chars[0, first) and chars[last, end)) were meant as ASCII quotes (ascii)
// around text.
struct Meant {
  size_t first, last;
  std::string text;
  char ascii;
};

// chars: the word's characters (offset in s, character).
Meant meant_by(const std::string& s, const Word& w, const std::vector<std::pair<size_t, Char>>& chars) {
  // Typographic quotes at the word's edges were meant as quotes around the rest.
  size_t first = 0, last = chars.size();
  while (first < last && typographic_quote(chars[first].second.cp)) ++first;
  while (last > first && typographic_quote(chars[last - 1].second.cp)) --last;
  bool opening = first > 0, closing = last < chars.size();
  size_t text_begin = first < chars.size() ? chars[first].first : w.end;
  size_t text_end = last > first ? chars[last - 1].first + chars[last - 1].second.len : text_begin;
  // "“/a b”" splits at the space: the meant text runs to the other word's quote.
  if (opening && !closing) {
    for (size_t i = w.end; i < s.size(); i += decode(s, i).len) {
      if (typographic_quote(decode(s, i).cp)) {
        text_end = i;
        break;
      }
    }
  } else if (closing && !opening) {
    for (size_t i = 0; i < w.begin; i += decode(s, i).len) {
      Char c = decode(s, i);
      if (typographic_quote(c.cp)) text_begin = i + c.len;
    }
  }
  char ascii = '"';
  if (opening || closing) {
    ascii = typographic_quote(chars[opening ? 0 : chars.size() - 1].second.cp)->ascii;
  }
  return Meant{first, last, s.substr(text_begin, text_end - text_begin), ascii};
}

}  // namespace

// One warning per typographic quote (or Unicode space) in an argument, with the fix.
void Reader::warn_typographic(const std::string& name, const LogicalLine& l, const Word& w) {
  const std::string& s = l.text;
  std::vector<std::pair<size_t, Char>> chars;  // the word's characters
  for (size_t i = w.begin; i < w.end;) {
    Char c = decode(s, i);
    chars.emplace_back(i, c);
    i += c.len;
  }
  Meant m = meant_by(s, w, chars);
  size_t first = m.first, last = m.last;
  const std::string& meant = m.text;
  char ascii = m.ascii;
  bool path = !meant.empty() && meant[0] == '/';

  for (size_t k = 0; k < chars.size(); ++k) {
    int32_t cp = chars[k].second.cp;
    const TypographicQuote* q = typographic_quote(cp);
    if (!q && !unicode_space_name(cp)) continue;
    SourceLoc loc = loc_of(name, l, chars[k].first, chars[k].first + chars[k].second.len);
    if (!typographic_seen_.emplace(loc.file, loc.line, loc.col).second) continue;
    if (!q) {
      diags_->warning(loc, code_point_name(cp) + " (" + unicode_space_name(cp) +
                               ") is not white space; the argument keeps it",
                      {"replace it with an ordinary space"});
      continue;
    }
    std::string message = "typographic quote " + code_point_name(q->cp) + " (" + q->name +
                          ") is not a quote; the argument keeps it as part of the " +
                          (path ? "path" : "text");
    std::string note;
    if (k < first || k >= last) {
      note = std::string("write ") + ascii + meant + ascii + " with ASCII " +
             (ascii == '"' ? "double" : "single") + " quotes (" + ascii + ")";
    } else {
      note = "delete it unless the argument really contains it";
    }
    diags_->warning(loc, message, {note});
  }
}

// Unicode spaces before the first word: indentation pasted from a web page.
// httpd would take them as part of the directive name; read_text skips them
// and this warns at the first one, at byte `at` of the line.
void Reader::warn_unicode_indentation(const std::string& name, const LogicalLine& l, size_t at) {
  Char c = decode(l.text, at);
  diags_->warning(loc_of(name, l, at, at + c.len),
                  code_point_name(c.cp) + " (" + unicode_space_name(c.cp) +
                      ") is not white space; skipped at the start of the line",
                  {"replace it with an ordinary space"});
}

}  // namespace wsgid::config::syntax_detail
