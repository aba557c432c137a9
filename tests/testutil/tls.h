// MakeSelfSignedCertificate: a throwaway EC certificate for 127.0.0.1 (valid one day, made
// by Debian's openssl), for tests of TLS listeners and of clients that must refuse a
// certificate the system does not trust. Returns an empty string on success, else what
// openssl printed.
#pragma once

#include <chrono>
#include <string>

#include "testutil/process.h"

namespace lastgood::testutil {

inline std::string MakeSelfSignedCertificate(const std::string& cert, const std::string& key,
                                             const std::string& log) {
  ProcessOptions make;
  make.argv = {"/usr/bin/openssl",
               "req",
               "-x509",
               "-newkey",
               "ec",
               "-pkeyopt",
               "ec_paramgen_curve:prime256v1",
               "-nodes",
               "-keyout",
               key,
               "-out",
               cert,
               "-days",
               "1",
               "-subj",
               "/CN=127.0.0.1",
               "-addext",
               "subjectAltName=IP:127.0.0.1"};
  make.stdout_path = make.stderr_path = log;
  Process openssl(make);
  auto made = openssl.Wait(std::chrono::seconds(10));
  if (made && made->exited() && made->code == 0) return "";
  std::string printed = ReadFile(log);
  return printed.empty() ? "openssl did not finish" : printed;
}

}  // namespace lastgood::testutil
