// Shared modules a process loads with dlopen() after it has dropped root (the
// front end's Python and TLS modules, on a reload that first needs them).
//
// hold_module_file() opens the module while the process can still reach it;
// module_load_path() then names it /proc/self/fd/N, which the kernel opens from
// the descriptor's inode: the final user needs read permission on the file only,
// not search permission on the directories above it (a build under /root, mode
// 0700), as when the process loaded the module as root. Without /proc the path
// itself is used. One thread (the loop), or before any other starts.
#pragma once

#include <string>

namespace wsgid {

// Opens path (O_RDONLY | O_CLOEXEC) and keeps the descriptor for the life of
// the process; nothing when it is held already or cannot be opened (the later
// dlopen() reports why).
void hold_module_file(const std::string& path);
// "/proc/self/fd/N" for a held path, else path.
std::string module_load_path(const std::string& path);
// Loads the module at path (through its held descriptor when there is one) with
// dlopen(RTLD_NOW | RTLD_LOCAL: its copies of wsgid's libraries stay its own)
// and looks up its entry point -> the entry's address; nullptr with *error
// ("dlopen(PATH): ...", "dlsym(NAME) in PATH: not found").
void* load_module_entry(const std::string& path, const char* entry, std::string* error);

}  // namespace wsgid
