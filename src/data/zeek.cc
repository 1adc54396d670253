#include "broker/zeek.hh"

namespace broker::zeek {

namespace {

error invalid(std::string what) {
  return error{ec::invalid_data, "invalid Zeek message: " + std::move(what)};
}

data wrap(message_type t, vector content) {
  return data{vector{data{protocol_version},
                     data{count{static_cast<uint8_t>(t)}},
                     data{std::move(content)}}};
}

// Checks one content layout; `what` names the message type in errors.
expected<const vector*> check_event(const vector& xs) {
  if (xs.size() != 2 && xs.size() != 3)
    return invalid("an event has 2 or 3 fields (name, args[, metadata]), got "
                   + std::to_string(xs.size()));
  if (!xs[0].is<std::string>())
    return invalid("the event name must be a string, got "
                   + std::string{to_string(xs[0].get_type())});
  if (!xs[1].is<vector>())
    return invalid("the event arguments must be a vector, got "
                   + std::string{to_string(xs[1].get_type())});
  if (xs.size() == 3) {
    if (!xs[2].is<vector>())
      return invalid("the event metadata must be a vector, got "
                     + std::string{to_string(xs[2].get_type())});
    for (auto& entry : xs[2].get<vector>()) {
      auto* kv = entry.get_if<vector>();
      if (kv == nullptr || kv->size() != 2 || !(*kv)[0].is<count>())
        return invalid("each metadata entry must be [count key, value]");
    }
  }
  return &xs;
}

expected<const vector*> check_fields(const vector& xs, const char* what,
                                     size_t n) {
  if (xs.size() != n)
    return invalid(std::string{what} + " has " + std::to_string(n)
                   + " fields, got " + std::to_string(xs.size()));
  return &xs;
}

} // namespace

expected<message_type> type_of(const data& msg) {
  auto* xs = msg.get_if<vector>();
  if (xs == nullptr)
    return invalid("expected a vector, got "
                   + std::string{to_string(msg.get_type())});
  if (xs->size() != 3)
    return invalid("expected [version, type, content], got "
                   + std::to_string(xs->size()) + " elements");
  auto* version = (*xs)[0].get_if<count>();
  if (version == nullptr)
    return invalid("the format version must be a count");
  if (*version != protocol_version)
    return invalid("unsupported format version " + std::to_string(*version));
  auto* type = (*xs)[1].get_if<count>();
  if (type == nullptr)
    return invalid("the message type must be a count");
  if (*type < 1 || *type > 5)
    return invalid("unknown message type " + std::to_string(*type));
  if (!(*xs)[2].is<vector>())
    return invalid("the message content must be a vector");
  return static_cast<message_type>(*type);
}

expected<const vector*> parse_content(const data& msg, message_type t) {
  auto type = type_of(msg);
  if (!type)
    return type.error();
  if (*type != t)
    return invalid("expected message type "
                   + std::to_string(static_cast<int>(t)) + ", got "
                   + std::to_string(static_cast<int>(*type)));
  auto& content = msg.get<vector>()[2].get<vector>();
  switch (t) {
    case message_type::event:
      return check_event(content);
    case message_type::log_create:
      return check_fields(content, "a log create", 4);
    case message_type::log_write:
      if (content.size() == 4 && !content[3].is<std::string>())
        return invalid("a log write carries its records as a string");
      return check_fields(content, "a log write", 4);
    case message_type::identifier_update:
      if (content.size() == 2 && !content[0].is<std::string>())
        return invalid("an identifier update starts with the name");
      return check_fields(content, "an identifier update", 2);
    case message_type::batch:
      for (auto& x : content)
        if (auto sub = type_of(x); !sub)
          return invalid("batch element: " + sub.error().message());
      return &content;
    default:
      return invalid("unknown message type");
  }
}

data make_event(std::string name, vector args, vector metadata) {
  vector content;
  content.reserve(3);
  content.emplace_back(std::move(name));
  content.emplace_back(std::move(args));
  if (!metadata.empty())
    content.emplace_back(std::move(metadata));
  return wrap(message_type::event, std::move(content));
}

expected<event_view> parse_event(const data& msg) {
  auto content = parse_content(msg, message_type::event);
  if (!content)
    return content.error();
  auto& xs = **content;
  event_view result;
  result.name = &xs[0].get<std::string>();
  result.args = &xs[1].get<vector>();
  if (xs.size() == 3)
    result.metadata = &xs[2].get<vector>();
  return result;
}

const data* event_metadata(const event_view& ev, count key) {
  if (ev.metadata == nullptr)
    return nullptr;
  for (auto& entry : *ev.metadata) {
    auto& kv = entry.get<vector>();
    if (kv[0].get<count>() == key)
      return &kv[1];
  }
  return nullptr;
}

data make_log_create(enum_value stream_id, enum_value writer_id,
                     data writer_info, data fields) {
  return wrap(message_type::log_create,
              vector{data{std::move(stream_id)}, data{std::move(writer_id)},
                     std::move(writer_info), std::move(fields)});
}

data make_log_write(enum_value stream_id, enum_value writer_id,
                    std::string path, std::string serial_data) {
  return wrap(message_type::log_write,
              vector{data{std::move(stream_id)}, data{std::move(writer_id)},
                     data{std::move(path)}, data{std::move(serial_data)}});
}

data make_identifier_update(std::string id_name, data id_value) {
  return wrap(message_type::identifier_update,
              vector{data{std::move(id_name)}, std::move(id_value)});
}

data make_batch(vector messages) {
  return wrap(message_type::batch, std::move(messages));
}

} // namespace broker::zeek
