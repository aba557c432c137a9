// `lastgood secret set|list|remove`: an app's secrets (docs/secrets.md). A value comes from
// stdin (hidden when it is a terminal) or --from-file, never from argv, which `ps` shows to
// every user; it is sent once, to PUT /v1/apps/{app}/secrets/{name}, and never printed.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "base/fd.h"
#include "base/names.h"
#include "cli/verbs.h"
#include "secrets/secret_box.h"

namespace lastgood::cli {
namespace {

// Reads `fd` to its end, but no more than kMaxSecretBytes + 1 bytes (enough to say it is too
// long without reading a huge file or an endless pipe).
Result<std::string> ReadBounded(int fd, const std::string& what) {
  std::string value(kMaxSecretBytes + 1, '\0');
  size_t got = 0;
  while (got < value.size()) {
    ssize_t n = ::read(fd, value.data() + got, value.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::InvalidInput("cannot read " + what + ": " + strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  value.resize(got);
  return value;
}

Result<std::string> FromFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Error::InvalidInput("cannot open " + path + ": " + strerror(errno), "--from-file");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<size_t>(st.st_size) > kMaxSecretBytes) {
    return Error::InvalidInput(path + " is " + std::to_string(st.st_size) +
                                   " bytes; a secret may hold at most " +
                                   std::to_string(kMaxSecretBytes) + " bytes",
                               "--from-file");
  }
  return ReadBounded(fd.get(), path);  // exactly as in the file
}

// From stdin: hidden when typed at a terminal. One line ending ("\n" or "\r\n"), which `echo`
// and the Enter key add, is not part of the value.
Result<std::string> FromStdin(const std::string& app, const std::string& name) {
  Result<std::string> value = std::string();
  if (::isatty(STDIN_FILENO)) {
    std::cerr << "value of secret " << name << " of " << app << " (not shown): " << std::flush;
    termios old{};
    bool hidden = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (hidden) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      hidden = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    std::string line;
    std::getline(std::cin, line);
    if (hidden) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
    value = std::move(line);
  } else {
    value = ReadBounded(STDIN_FILENO, "stdin");
  }
  if (!value.ok()) return value;
  std::string& v = *value;
  if (!v.empty() && v.back() == '\n') v.pop_back();
  if (!v.empty() && v.back() == '\r') v.pop_back();
  return value;
}

}  // namespace

void AddSecretVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto* secret = app.add_subcommand("secret", "manage an app's secrets (values never shown)");
  secret->require_subcommand(1);

  struct SetFlags {
    std::string app, name, file;
  };
  auto sf = std::make_shared<SetFlags>();
  auto* set = secret->add_subcommand(
      "set", "set a secret from stdin (hidden at a terminal) or --from-file; admin only");
  set->add_option("app", sf->app, "the app")->required();
  set->add_option("name", sf->name, "the secret's name, e.g. db-password")->required();
  set->add_option("--from-file", sf->file, "read the value from this file, byte for byte");
  set->callback([&g, sf, exit_code] {
    if (auto s = ValidateName(sf->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    if (auto s = ValidateName(sf->name, "secret name", "name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto value = sf->file.empty() ? FromStdin(sf->app, sf->name) : FromFile(sf->file);
    if (!value.ok()) return void(*exit_code = Fail(g, value.error()));
    Status valid = ValidateSecretValue(*value);
    Result<nlohmann::json> r = Error::Internal("not sent");
    if (valid.ok()) r = g.Client().PutBytes("/v1/apps/" + sf->app + "/secrets/" + sf->name, *value);
    OPENSSL_cleanse(value->data(), value->size());
    if (!valid.ok()) return void(*exit_code = Fail(g, valid.error()));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << (*r)["message"].get<std::string>() << "\n";
  });

  auto list_app = std::make_shared<std::string>();
  auto* list = secret->add_subcommand("list", "an app's secrets: names and when each was set");
  list->add_option("app", *list_app, "the app")->required();
  list->callback([&g, list_app, exit_code] {
    if (auto s = ValidateName(*list_app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + *list_app + "/secrets");
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    if (r->empty()) {
      std::cout << *list_app << " has no secrets; `lastgood secret set " << *list_app
                << " NAME` sets one\n";
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"NAME", "SET", "BY"}};
    for (const auto& s : *r) rows.push_back({s["name"], ShortTime(s["setAt"]), s["setBy"]});
    PrintTable(rows);
  });

  struct RemoveFlags {
    std::string app, name;
  };
  auto rf = std::make_shared<RemoveFlags>();
  auto* remove = secret->add_subcommand("remove", "remove a secret; admin only");
  remove->add_option("app", rf->app, "the app")->required();
  remove->add_option("name", rf->name, "the secret's name")->required();
  remove->callback([&g, rf, exit_code] {
    if (auto s = ValidateName(rf->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    if (auto s = ValidateName(rf->name, "secret name", "name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Delete("/v1/apps/" + rf->app + "/secrets/" + rf->name);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << (*r)["message"].get<std::string>() << "\n";
  });
}

}  // namespace lastgood::cli
