// Theory of operation: TLS tests need a server certificate; they make one at
// run time (a self-signed P-256 and an RSA-2048 certificate in a temporary
// directory, removed at the end) rather than check keys into the tree. A
// test binary registers it once: ::testing::AddGlobalTestEnvironment(new Pki).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace xo::test {

// ---- a certificate made at run time ----

class Pki : public ::testing::Environment {
public:
    static inline std::string dir, chain, key, rsa_chain, rsa_key;

    void SetUp() override
    {
        char tmpl[] = "/tmp/xo_tls_test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        chain = dir + "/chain.pem";
        key = dir + "/key.pem";
        rsa_chain = dir + "/rsa-chain.pem";
        rsa_key = dir + "/rsa-key.pem";
        write_self_signed(EVP_EC_gen("P-256"), chain, key);
        write_self_signed(EVP_RSA_gen(2048), rsa_chain, rsa_key);
    }
    static void write_self_signed(EVP_PKEY* pkey, const std::string& chain_file, const std::string& key_file)
    {
        ASSERT_NE(pkey, nullptr);
        X509* x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("xo-tls-test"), -1,
                                   -1, 0);
        X509_set_issuer_name(x, name);
        ASSERT_GT(X509_sign(x, pkey, EVP_sha256()), 0);
        FILE* f = std::fopen(chain_file.c_str(), "w");
        ASSERT_EQ(PEM_write_X509(f, x), 1);
        std::fclose(f);
        f = std::fopen(key_file.c_str(), "w");
        ASSERT_EQ(PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
        std::fclose(f);
        X509_free(x);
        EVP_PKEY_free(pkey);
    }
    void TearDown() override
    {
        for (const std::string* f : {&chain, &key, &rsa_chain, &rsa_key})
            std::remove(f->c_str());
        rmdir(dir.c_str());
    }
};
} // namespace xo::test
