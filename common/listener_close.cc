// The SYN-dropping filter of a draining listener; see listener_close.h.
#include "common/listener_close.h"

#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace wsgid {

Status refuse_new_handshakes(int fd) {
  // A = byte 13 of the TCP header (the flags); A &= SYN|ACK;
  // A == SYN ? drop (keep 0 bytes) : keep the whole segment.
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    return Status::error("setsockopt(fd " + std::to_string(fd) + ", SO_ATTACH_FILTER): " +
                         std::strerror(errno));
  return Status::ok();
}

}  // namespace wsgid
