#include "supervisor/frontend/snapshot.h"

namespace wsgid::frontend {

uint64_t Snapshot::busy() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.busy;
  return n;
}

uint64_t Snapshot::idle() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.idle;
  return n;
}

uint64_t Snapshot::queue() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.queue;
  return n;
}

}  // namespace wsgid::frontend
