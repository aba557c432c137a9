#include "ui/assets.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lastgood::ui {
namespace {

std::string ContentTypeFor(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".json", "application/json"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"}};
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= std::strlen(ext) && path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

bool SafePath(const std::string& p) {
  if (p.empty() || p[0] != '/' || p.size() > 256) return false;
  if (p.find("..") != std::string::npos || p.find("//") != std::string::npos) return false;
  for (char c : p) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' ||
          c == '_'))
      return false;
  }
  return true;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

Result<Asset> LoadAsset(const std::string& dir, const std::string& url_path) {
  std::string path = url_path == "/" ? "/index.html" : url_path;
  if (!SafePath(path)) return Error::NotFound("no such file");
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path full = fs::path(dir) / path.substr(1);
  if (!fs::is_regular_file(full, ec)) return Error::NotFound("no such file: " + path);
  auto size = fs::file_size(full, ec);
  if (ec || size > kMaxAssetBytes) return Error::NotFound("no such file: " + path);
  std::ifstream in(full, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in.good() && !in.eof()) return Error::Unavailable("cannot read " + path);
  return Asset{body.str(), ContentTypeFor(path), path.starts_with("/assets/")};
}

std::string DefaultAssetsDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "ui";
  // A build keeps the page beside the binary (build/ui); the package installs it where a
  // program's data goes (/usr/bin/lastgood → /usr/share/lastgood/ui).
  auto beside = exe.parent_path() / "ui";
  auto installed = exe.parent_path().parent_path() / "share" / "lastgood" / "ui";
  if (!std::filesystem::exists(beside / "index.html", ec) &&
      std::filesystem::exists(installed / "index.html", ec))
    return installed.string();
  return beside.string();
}

std::string LoginNeededPage(const std::string& why) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>lastgood: log in</title><style>body{font:16px/1.5 system-ui,sans-serif;"
         "max-width:34em;margin:3em auto;padding:0 1em;color:#111;background:#fff}"
         "code{background:#eee;padding:.1em .3em}</style></head><body>"
         "<h1>lastgood dashboard</h1><p>" +
         Escape(why) +
         "</p><p>To log in, run <code>lastgood dashboard</code> on the controller's host "
         "and open the link it prints (it works once, for 10 minutes).</p></body></html>";
}

}  // namespace lastgood::ui
