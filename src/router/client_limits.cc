#include "router/client_limits.h"

namespace lastgood {

std::string ClientLimits::Key(uint32_t listener, const boost::asio::ip::address& client) {
  std::string key(reinterpret_cast<const char*>(&listener), sizeof listener);
  if (client.is_v6()) {
    auto bytes = client.to_v6().to_bytes();
    key.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else {
    auto bytes = client.to_v4().to_bytes();
    key.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return key;
}

bool ClientLimits::TryAdd(uint32_t listener, const boost::asio::ip::address& client, int limit) {
  std::string key = Key(listener, client);
  std::lock_guard<std::mutex> lock(mu_);
  int& open = open_[key];
  if (open >= limit) {
    if (open == 0) open_.erase(key);
    return false;
  }
  ++open;
  return true;
}

void ClientLimits::Remove(uint32_t listener, const boost::asio::ip::address& client) {
  std::string key = Key(listener, client);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(key);
  if (it == open_.end()) return;
  if (--it->second <= 0) open_.erase(it);
}

size_t ClientLimits::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

}  // namespace lastgood
