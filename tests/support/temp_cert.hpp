// A self-signed certificate made at test time (OpenSSL's C API: the command line would date it from "now",
// which breaks on machines whose clock disagrees), in its own temporary folder, removed afterwards. Throws
// std::runtime_error on failure (no test framework needed: the benches use it too).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace coalias::test {

// A self-signed P-256 certificate for IP 127.0.0.1, valid from an hour ago for a day (no clock-skew traps).
struct temp_cert {
  static void ensure(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("temp_cert: ") + what);
  }

  std::filesystem::path dir;
  std::string cert_file;
  std::string key_file;

  explicit temp_cert(const std::string& tag = "server") {
    dir = std::filesystem::temp_directory_path() / ("coalias-tls-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    cert_file = (dir / "cert.pem").string();
    key_file = (dir / "key.pem").string();

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    ensure(key != nullptr, "EVP_EC_gen failed");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    ensure(san != nullptr, "subjectAltName failed");
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    ensure(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign failed");

    FILE* f = std::fopen(cert_file.c_str(), "w");
    ensure(f != nullptr, "cannot write the certificate");
    PEM_write_X509(f, cert.get());
    std::fclose(f);
    f = std::fopen(key_file.c_str(), "w");
    ensure(f != nullptr, "cannot write the key");
    PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  ~temp_cert() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace coalias::test
