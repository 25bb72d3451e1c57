// The table of a GroupSpec's options as JSON: one row per WSGIDaemonProcess
// option (its mod_wsgi key, the GroupSpec member, how the value is spelled).
// Every JSON form of a group (`--check --json`, the worker settings message)
// reads and writes options through this table, and the reload diff compares
// groups with it, so a new option is added here once (beside its row in the
// parser's supervisor/config/daemon_options.cc) and every codec knows it.
//
// Values: integers, numbers (seconds, finite and >= 0), booleans, strings;
// unset optionals are null; lists are arrays of strings (a string is accepted
// too and split at the option's separator, as the option is written in the
// config); umask is an octal string ("0027"; an integer is accepted). Reading a
// missing key or null keeps the value already in the GroupSpec. Pure functions;
// any thread.
#pragma once

#include <optional>

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

// Writes every option of the table into *j (an object), unset ones as null.
void write_group_options(const GroupSpec& group, nlohmann::json* j);

// Reads every option of the table found in j (an object) into *group; stops at
// the first value that does not fit and names it.
std::optional<OptionError> read_group_options(const nlohmann::json& j, GroupSpec* group);

// True when a and b have the same name, processes_given and value for every
// option of the table; where they were written (loc, option_locs) is ignored.
bool same_group_options(const GroupSpec& a, const GroupSpec& b);

}  // namespace wsgid::model
