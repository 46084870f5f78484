// Theory of operation: the control channel is authenticated with a secret
// shared by every gateway and responder of a cluster (TLS 1.3 external PSK,
// see control_channel.h). The secret lives in a small key file:
//
//   <key id> <64 hex digits>\n        e.g. generate with
//   printf 'xo1 %s\n' "$(openssl rand -hex 32)" > xo.key && chmod 600 xo.key
//
// The key id is the TLS PSK identity, so keys can be rotated by id. Whoever
// holds the key may make a responder send packets and receive TLS session
// keys, so a key file that anyone but its owner can read (any group or other
// permission bit) is refused with an error naming the mode, as ssh does for
// private keys. The mode is checked on the opened descriptor, not the path,
// so the file cannot be swapped between the check and the read; symlinks are
// not followed. Key bytes are wiped from memory when the key is destroyed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "result.h"

namespace xo {

class PresharedKey {
public:
    static constexpr std::size_t key_size = 32; ///< matches SHA-256, the suite's hash
    static constexpr std::size_t max_id_size = 64;

    /**
     * load() - read and check a key file.
     * @path: the file; must be a regular file of mode 0600 or stricter.
     *
     * Return: the key, or an error naming the file and the problem (mode,
     * format, length).
     */
    static Result<PresharedKey> load(const std::string& path);

    /**
     * from_bytes() - a key given directly (tests, tools).
     * @id: 1..max_id_size printable characters without spaces.
     * @key: exactly key_size bytes.
     */
    static Result<PresharedKey> from_bytes(std::string id, std::span<const std::uint8_t> key);

    PresharedKey(const PresharedKey&) = delete;
    PresharedKey& operator=(const PresharedKey&) = delete;
    PresharedKey(PresharedKey&&) = default;
    PresharedKey& operator=(PresharedKey&&) = default;
    ~PresharedKey();

    const std::string& id() const { return id_; }
    std::span<const std::uint8_t> secret() const { return key_; }

private:
    PresharedKey(std::string id, std::vector<std::uint8_t> key) : id_(std::move(id)), key_(std::move(key)) {}
    std::string id_;
    std::vector<std::uint8_t> key_;
};

} // namespace xo
