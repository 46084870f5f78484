// Theory of operation: the secrets of the handoff plane live in small key
// files, one key per line:
//
//   <key id> <64 hex digits>\n        e.g. generate with
//   printf 'xo1 %s\n' "$(openssl rand -hex 32)" > xo.key && chmod 600 xo.key
//
// A file is a Keyring: its first line is the current key (the one a gateway
// offers or signs with), every line is accepted (by a responder's handshake
// or ticket check). That is how a key is rotated without restarting the
// cluster: add the new key as a second line where keys are checked, make it
// the first line where keys are used, then delete the old line. A
// KeyringFile re-reads its file when the file changes (inode, size or mtime),
// so each step takes effect at the next handshake or ticket.
//
// Whoever holds a key may make a responder send packets or serve objects, so
// a key file that anyone but its owner can read (any group or other
// permission bit) is refused with an error naming the mode, as ssh does for
// private keys. The mode is checked on the opened descriptor, not the path,
// so the file cannot be swapped between the check and the read; symlinks are
// not followed. Key bytes are wiped from memory when a key is destroyed, and
// no error message quotes a key file's content.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace xo::handoff {

class PresharedKey {
public:
    static constexpr std::size_t key_size = 32; ///< matches SHA-256, the suite's hash
    static constexpr std::size_t max_id_size = 64;

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

/** The keys of one key file: current() is used, every key is accepted. */
class Keyring {
public:
    static constexpr std::size_t max_keys = 4; ///< a rotation needs two; more is a mistake

    /**
     * load() - read and check a key file.
     * @path: a regular file of mode 0600 or stricter, 1..max_keys lines.
     *
     * Return: the keyring, or an error naming the file, the line and the
     * problem (mode, format, length, repeated id).
     */
    static Result<Keyring> load(const std::string& path);

    /** of() - a keyring of @keys (tests, tools): 1..max_keys keys with distinct ids. */
    static Result<Keyring> of(std::vector<PresharedKey> keys);

    const PresharedKey& current() const { return keys_.front(); }
    /** find() - the key named @id, or nullptr. */
    const PresharedKey* find(std::string_view id) const;
    std::span<const PresharedKey> keys() const { return keys_; }

private:
    explicit Keyring(std::vector<PresharedKey> keys) : keys_(std::move(keys)) {}
    std::vector<PresharedKey> keys_;
};

/**
 * A key file that is read again when it changes. Thread-safe: the gateway's
 * workers share one.
 */
class KeyringFile {
public:
    explicit KeyringFile(std::string path) : path_(std::move(path)) {}

    /**
     * keys() - the file's keyring, re-read if the file changed since the last call.
     *
     * Return: the keyring; or the error of reading a changed file (the
     * previous keyring is then no longer used either: a broken key file
     * stops handoffs rather than keeping a key the operator meant to remove).
     */
    Result<std::shared_ptr<const Keyring>> keys();
    const std::string& path() const { return path_; }

private:
    struct Stamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = -1;
        timespec mtime{};
        timespec ctime{}; ///< a chmod changes only this
        bool operator==(const Stamp&) const;
    };
    std::string path_;
    std::mutex mutex_;
    Stamp stamp_;
    std::shared_ptr<const Keyring> keys_;
};

} // namespace xo::handoff
