#include "broker/topic.hh"

namespace broker {

topic& topic::operator/=(const topic& other) {
  if (other.str_.empty())
    return *this;
  if (str_.empty()) {
    str_ = other.str_;
    return *this;
  }
  bool lhs_sep = str_.back() == sep;
  bool rhs_sep = other.str_.front() == sep;
  if (lhs_sep && rhs_sep)
    str_.append(other.str_, 1);
  else if (lhs_sep || rhs_sep)
    str_ += other.str_;
  else {
    str_ += sep;
    str_ += other.str_;
  }
  return *this;
}

bool topic::is_reserved(std::string_view t) noexcept {
  return t.starts_with(reserved) || t.find("/<$>/") != std::string_view::npos;
}

} // namespace broker
