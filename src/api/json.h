// The JSON shapes of the controller's API (DESIGN.md section 5, "Machine-readable
// output"). The CLI prints these as they are for `-o json`, so they are a contract.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <type_traits>

#include "base/result.h"
#include "engine/engine.h"
#include "history/model.h"
#include "wire/json_text.h"

namespace lastgood {

nlohmann::json VersionJson(const Version& v);  // without the manifest
nlohmann::json DeploymentJson(const Deployment& d, bool with_operations);
nlohmann::json OutcomeJson(const Outcome& o);
nlohmann::json StatusJson(const AppStatus& s);
// ErrorJson and DumpJson, the serialiser every response goes through: wire/json_text.h.

// Limits on a request body (besides its size, kMaxRequestBody in api/handlers.h).
inline constexpr int kMaxJsonDepth = 32;  // nested arrays/objects; a body needs 2

// Decodes a request body: a JSON object (an empty body is `{}`) whose fields are all in
// `allowed`, nested at most kMaxJsonDepth deep. InvalidInput with a message that says which
// rule was broken (and the field, for an unknown one) otherwise. Never throws.
Result<nlohmann::json> ParseRequestBody(const std::string& body,
                                        const std::set<std::string>& allowed);

namespace json_detail {

template <typename T>
inline constexpr bool kWholeNumber = std::is_integral_v<T> && !std::is_same_v<T, bool>;
// An object of whole numbers, as {"shares": {"staging": 10}}.
template <typename T>
struct IsWholeNumberMap : std::false_type {};
template <typename V>
struct IsWholeNumberMap<std::map<std::string, V>> : std::bool_constant<kWholeNumber<V>> {};

// `v` as T when it is a whole number within T's range.
template <typename T>
std::optional<T> WholeNumber(const nlohmann::json& v) {
  using Limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(Limits::max())) return std::nullopt;
    return static_cast<T>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) return std::nullopt;
  int64_t n = v.get<int64_t>();
  if (n < static_cast<int64_t>(Limits::min()) || n > static_cast<int64_t>(Limits::max()))
    return std::nullopt;
  return static_cast<T>(n);
}

template <typename T>
Error NotAWholeNumber(const std::string& field) {
  return Error::InvalidInput("field '" + field + "' must be a whole number from " +
                                 std::to_string(std::numeric_limits<T>::min()) + " to " +
                                 std::to_string(std::numeric_limits<T>::max()),
                             field);
}

}  // namespace json_detail

// One field of a decoded body: absent or null is nullopt; a value of another type is
// InvalidInput naming the field. An integer field (or an object of integers) takes only
// whole numbers within the type's range — never a fraction or a huge number, whose
// conversion would be undefined behaviour (found by the api_body fuzz target:
// {"to": 3.7e64}). Never throws.
template <typename T>
Result<std::optional<T>> BodyField(const nlohmann::json& j, const std::string& name) {
  using namespace json_detail;
  if (!j.contains(name) || j[name].is_null()) return std::optional<T>{};
  const nlohmann::json& v = j[name];
  if constexpr (kWholeNumber<T>) {
    auto n = WholeNumber<T>(v);
    if (!n) return NotAWholeNumber<T>(name);
    return std::optional<T>(*n);
  } else if constexpr (IsWholeNumberMap<T>::value) {
    using V = typename T::mapped_type;
    if (!v.is_object()) return Error::InvalidInput("field '" + name + "' has the wrong type", name);
    T out;
    for (const auto& [key, item] : v.items()) {
      auto n = WholeNumber<V>(item);
      if (!n) return NotAWholeNumber<V>(name + "." + key);
      out[key] = *n;
    }
    return std::optional<T>(std::move(out));
  } else {
    try {
      return std::optional<T>(v.get<T>());
    } catch (const nlohmann::json::exception&) {
      return Error::InvalidInput("field '" + name + "' has the wrong type", name);
    }
  }
}

}  // namespace lastgood
