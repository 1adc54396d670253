#include "broker/topic.hh"

namespace broker {

topic& topic::operator/=(const topic& other) {
  // Real Broker's rule, kept exactly so that joined topics (and thus
  // subscriptions) match between the two: a separator goes in only when
  // both sides are non-empty and `other` does not start with one; then one
  // trailing separator is dropped. "/a/" / "/b/c" gives "/a//b/c".
  if (!other.str_.empty() && other.str_.front() != sep && !str_.empty())
    str_ += sep;
  str_ += other.str_;
  if (!str_.empty() && str_.back() == sep)
    str_.pop_back();
  return *this;
}

bool topic::is_reserved(std::string_view t) noexcept {
  return t.starts_with(reserved) || t.find("/<$>/") != std::string_view::npos;
}

} // namespace broker
