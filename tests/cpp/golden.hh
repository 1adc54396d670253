#pragma once

// Loads the golden frames captured from a real Broker (tests/golden/).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace broker::test {

inline nlohmann::json load_golden(const std::string& name) {
  std::ifstream in{std::string{BROKER_GOLDEN_DIR} + "/" + name};
  if (!in)
    throw std::runtime_error("cannot open golden file " + name);
  return nlohmann::json::parse(in);
}

inline std::vector<std::byte> unhex(const std::string& hex) {
  std::vector<std::byte> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

inline std::string hex(const std::vector<std::byte>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[static_cast<unsigned>(b) >> 4];
    out += digits[static_cast<unsigned>(b) & 0xf];
  }
  return out;
}

/// A phase-3 data frame split into its parts.
struct data_frame {
  std::string meaning;
  std::string topic;
  std::vector<std::byte> payload;
};

/// @returns every data frame (envelope type 1) of a golden file.
inline std::vector<data_frame> golden_data_frames(const std::string& name) {
  std::vector<data_frame> result;
  auto doc = load_golden(name);
  for (auto& frame : doc["frames"]) {
    auto meaning = frame["meaning"].get<std::string>();
    if (meaning.rfind("data ", 0) != 0)
      continue;
    auto bytes = unhex(frame["hex"].get<std::string>());
    // 4-byte length, 16 sender, 16 receiver, type, ttl(2), topic len(2).
    auto tlen = (static_cast<size_t>(bytes[39]) << 8) | static_cast<size_t>(bytes[40]);
    data_frame df;
    df.meaning = meaning;
    df.topic.assign(reinterpret_cast<const char*>(bytes.data() + 41), tlen);
    df.payload.assign(bytes.begin() + 41 + static_cast<std::ptrdiff_t>(tlen), bytes.end());
    result.push_back(std::move(df));
  }
  return result;
}

} // namespace broker::test
