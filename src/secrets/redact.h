// Redaction: what the controller records of text that deployed code wrote (the last line of
// an instance's stderr, a hook's output) passes through here first, so that an app that
// prints its own secret does not put it in a deployment record, a webhook or a log.
//
// Pure function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "secrets/secret_box.h"

namespace lastgood {

// Lines of a multi-line value at least this long are redacted on their own too (a PEM key
// printed line by line); shorter lines ("-----END KEY-----" aside) say too little to hide.
inline constexpr size_t kMinRedactedLine = 8;

// `text` with every occurrence of each secret's value replaced by "[secret NAME]"; for a value
// of several lines, also each of its lines of at least kMinRedactedLine bytes. Longer values
// are replaced first, so that one value inside another is not half-replaced.
std::string Redact(std::string text, const std::vector<SecretValue>& secrets);

}  // namespace lastgood
