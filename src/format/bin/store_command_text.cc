// Text renderings of store commands (to_string), for logs, error
// messages and tests: values in a Zeek-like notation.

#include "format/bin/store_command.hh"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

namespace broker::format::bin {

namespace {

void render_string(std::string& out, std::string_view str) {
  static constexpr char digits[] = "0123456789abcdef";
  out += '"';
  for (char ch : str) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
}

/// Renders values with their type names, as the golden `decoded` texts do.
struct typed_renderer {
  std::string& out;

  void operator()(const none&) { out += "nil"; }
  void operator()(boolean x) { out += x ? 'T' : 'F'; }
  void operator()(count x) { out += "count " + std::to_string(x); }
  void operator()(integer x) { out += "integer " + std::to_string(x); }

  void operator()(real x) {
    out += "real ";
    if (std::isnan(x)) {
      out += "nan";
      return;
    }
    if (std::isinf(x)) {
      out += x < 0 ? "-inf" : "inf";
      return;
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), x);
    std::string_view str{buf, static_cast<size_t>(res.ptr - buf)};
    out += str;
    if (str.find_first_of(".e") == std::string_view::npos)
      out += ".0";
  }

  void operator()(const std::string& x) {
    out += "string ";
    render_string(out, x);
  }

  void operator()(const address& x) { out += "address " + x.to_string(); }
  void operator()(const subnet& x) { out += "subnet " + x.to_string(); }
  void operator()(const port& x) { out += "port " + x.to_string(); }

  void operator()(const timestamp& x) {
    out += "timestamp " + std::to_string(x.time_since_epoch().count()) + "ns";
  }

  void operator()(const timespan& x) {
    out += "timespan " + std::to_string(x.count()) + "ns";
  }

  void operator()(const enum_value& x) {
    out += "enum ";
    render_string(out, x.name);
  }

  void operator()(const set& xs) {
    out += "set {";
    list(xs, [this](const data& x) { render(x); });
    out += '}';
  }

  void operator()(const table& xs) {
    out += "table ";
    entries(xs);
  }

  void operator()(const vector& xs) {
    out += "vector [";
    list(xs, [this](const data& x) { render(x); });
    out += ']';
  }

  void render(const data& x) { std::visit(*this, x.get_data()); }

  /// `{k -> v, ...}` for a table or a snapshot.
  template <class Range>
  void entries(const Range& xs) {
    out += '{';
    list(xs, [this](const auto& kv) {
      render(kv.first);
      out += " -> ";
      render(kv.second);
    });
    out += '}';
  }

  template <class Range, class F>
  void list(const Range& xs, F f) {
    bool first = true;
    for (auto& x : xs) {
      if (!first)
        out += ", ";
      first = false;
      f(x);
    }
  }
};

std::string render(const data& x) {
  std::string result;
  typed_renderer{result}.render(x);
  return result;
}

std::string render(const expiry_type& x) {
  if (!x)
    return "none";
  return std::to_string(x->count()) + "ns";
}

struct command_renderer {
  std::string& out;

  void operator()(const put_command& x) {
    out += "put(key=" + render(x.key) + ", value=" + render(x.value)
           + ", expiry=" + render(x.expiry)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const put_unique_command& x) {
    out += "put_unique(key=" + render(x.key) + ", value=" + render(x.value)
           + ", expiry=" + render(x.expiry) + ", who=" + to_string(x.who)
           + ", req_id=" + std::to_string(x.req_id)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const put_unique_result_command& x) {
    out += "put_unique_result(inserted=";
    out += x.inserted ? "True" : "False";
    out += ", who=" + to_string(x.who) + ", req_id=" + std::to_string(x.req_id)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const erase_command& x) {
    out += "erase(key=" + render(x.key)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const expire_command& x) {
    out += "expire(key=" + render(x.key)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const add_command& x) {
    out += "add(key=" + render(x.key) + ", value=" + render(x.value)
           + ", init_type=" + std::string{to_string(x.init_type)}
           + ", expiry=" + render(x.expiry)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const subtract_command& x) {
    out += "subtract(key=" + render(x.key) + ", value=" + render(x.value)
           + ", expiry=" + render(x.expiry)
           + ", publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const clear_command& x) {
    out += "clear(publisher=" + to_string(x.publisher) + ")";
  }

  void operator()(const attach_writer_command& x) {
    out += "attach_writer(offset=" + std::to_string(x.offset)
           + ", heartbeat_interval=" + std::to_string(x.heartbeat_interval)
           + ")";
  }

  void operator()(const keepalive_command& x) {
    out += "keepalive(seq=" + std::to_string(x.seq) + ")";
  }

  void operator()(const cumulative_ack_command& x) {
    out += "cumulative_ack(seq=" + std::to_string(x.seq) + ")";
  }

  void operator()(const nack_command& x) {
    out += "nack(seqs=[";
    for (size_t i = 0; i < x.seqs.size(); ++i) {
      if (i > 0)
        out += ", ";
      out += std::to_string(x.seqs[i]);
    }
    out += "])";
  }

  void operator()(const ack_clone_command& x) {
    out += "ack_clone(offset=" + std::to_string(x.offset)
           + ", heartbeat_interval=" + std::to_string(x.heartbeat_interval)
           + ", state=";
    typed_renderer{out}.entries(x.state);
    out += ')';
  }

  void operator()(const retransmit_failed_command& x) {
    out += "retransmit_failed(seq=" + std::to_string(x.seq) + ")";
  }
};

} // namespace

std::string to_string(const entity& x) {
  auto prefix = x.endpoint.is_nil() ? std::string{"nil"}
                                    : x.endpoint.to_string();
  return prefix + "#" + std::to_string(x.object);
}

std::string to_string(const command_variant& x) {
  std::string result;
  std::visit(command_renderer{result}, x);
  return result;
}

std::string to_string(const store_command& x) {
  return "seq=" + std::to_string(x.seq) + " sender=" + to_string(x.sender)
         + " receiver=" + to_string(x.receiver) + " "
         + to_string(x.content);
}

} // namespace broker::format::bin
