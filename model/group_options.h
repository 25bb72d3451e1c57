// The table of a GroupSpec's options: one row per WSGIDaemonProcess option (its
// mod_wsgi key, the GroupSpec member, how the config writes the value and what
// a valid one looks like, why wsgid keeps it without acting on it, if it does).
// The parser sets options through it (supervisor/config/daemon_options.cc adds
// only the checks that look at this system's users and groups), every JSON form
// of a group (`--check --json`, the worker settings message) reads and writes
// options through it, and the reload diff compares groups with it: a new option
// is one row here, its GroupSpec member, and its consumer.
//
// Values: integers, numbers (seconds, finite and >= 0), booleans, strings;
// unset optionals are null; lists are arrays of strings (a string is accepted
// too and split at the option's separator, as the option is written in the
// config); umask is an octal string ("0027"; an integer is accepted). Reading a
// missing key or null keeps the value already in the GroupSpec. Pure functions;
// any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace wsgid::model {

// Why one key could not be read: the key ("threads") and what its value should
// be ("an integer", "a number >= 0", "true or false", "a string", "a list of
// strings", "an octal mode", "an integer or an octal string").
struct OptionError {
  const char* key;
  const char* expected;
};

// Every option key, in table order (mod_wsgi's documentation order).
std::vector<std::string_view> group_option_names();

// What a valid value of key looks like ("an integer >= 1"), shown after
// "expected "; nullptr when key is not an option.
const char* group_option_expected(std::string_view key);

// Why wsgid accepts key but does not act on it; nullptr when it acts on it or
// key is not an option.
const char* group_option_no_effect(std::string_view key);

// Parses value as the config writes option key (key=value) and stores it in
// *group; false when key is not an option or value is not valid for it (the
// group is then unchanged).
bool set_group_option(std::string_view key, const std::string& value, GroupSpec* group);

// Writes every option of the table into *j (an object), unset ones as null.
void write_group_options(const GroupSpec& group, nlohmann::json* j);

// Reads every option of the table found in j (an object) into *group; stops at
// the first value that does not fit and names it.
std::optional<OptionError> read_group_options(const nlohmann::json& j, GroupSpec* group);

// True when a and b have the same name, processes_given and value for every
// option of the table; where they were written (loc, option_locs) is ignored.
bool same_group_options(const GroupSpec& a, const GroupSpec& b);

}  // namespace wsgid::model
