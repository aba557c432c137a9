#include "base/names.h"

#include <string>

namespace lastgood {

Status ValidateName(std::string_view name, std::string_view what, std::string_view field,
                    int line) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidInput(std::string(what) + " '" + std::string(name) + "' " + why +
                                   "; use 1-63 lowercase letters, digits and '-', starting "
                                   "with a letter",
                               std::string(field), line);
  };
  if (name.empty()) return bad("is empty");
  if (name.size() > 63) return bad("is longer than 63 characters");
  if (name[0] < 'a' || name[0] > 'z') return bad("does not start with a letter");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return bad("has a character that is not a lowercase letter, digit or '-'");
  }
  if (name.back() == '-') return bad("ends with '-'");
  return Status::Ok();
}

}  // namespace lastgood
