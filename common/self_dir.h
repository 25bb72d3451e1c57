// The directory of the running executable, where wsgid finds its sibling
// programs (the master: the worker and the front end) and the front end its
// Python module (supervisor/frontend/python_part.h).
#pragma once

#include <string>

namespace wsgid {

// The directory of /proc/self/exe, without a trailing '/'; "" when unknown.
std::string self_dir();

}  // namespace wsgid
