#include "util/flare.hh"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace broker::detail {

flare::flare() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
}

flare::~flare() {
  close(fd_);
}

void flare::fire() noexcept {
  // Adding 1 to the counter keeps it non-zero; a full counter (EAGAIN) is
  // still readable, which is all we need.
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(fd_, &one, sizeof(one));
}

void flare::extinguish() noexcept {
  // Reading resets an eventfd counter to zero; EAGAIN means already zero.
  uint64_t value = 0;
  [[maybe_unused]] auto n = read(fd_, &value, sizeof(value));
}

} // namespace broker::detail
