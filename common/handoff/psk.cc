#include "common/handoff/psk.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "common/hex.h"

namespace xo::handoff {

namespace {

// A key file is a few short lines; anything much larger is not a key file.
constexpr std::size_t max_file_size = 1024;

bool valid_id(const std::string& id)
{
    if (id.empty() || id.size() > PresharedKey::max_id_size)
        return false;
    for (unsigned char c : id)
        if (c <= ' ' || c > '~')
            return false;
    return true;
}

Result<std::vector<std::uint8_t>> parse_hex(std::string_view hex)
{
    if (hex.size() != 2 * PresharedKey::key_size)
        return Error{"key must be " + std::to_string(2 * PresharedKey::key_size) + " hex digits, found " +
                     std::to_string(hex.size()) + " characters"};
    std::vector<std::uint8_t> out(PresharedKey::key_size);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            OPENSSL_cleanse(out.data(), out.size());
            return Error{"key contains a character that is not a hex digit"};
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

// Reads the whole file through a descriptor whose mode was checked first.
Result<std::string> read_private_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return Error::from_errno("open key file " + path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        Error e = Error::from_errno("stat key file " + path);
        ::close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{"key file " + path + " is not a regular file"};
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        ::close(fd);
        return Error{"key file " + path + " has mode " + mode +
                         "; it must not be accessible by group or others (chmod 600 " + path + ")",
                     EACCES};
    }
    std::string text(max_file_size + 1, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            Error e = Error::from_errno("read key file " + path);
            ::close(fd);
            OPENSSL_cleanse(text.data(), text.size());
            return e;
        }
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (got > max_file_size) {
        OPENSSL_cleanse(text.data(), text.size());
        return Error{"key file " + path + " is larger than " + std::to_string(max_file_size) + " bytes"};
    }
    text.resize(got);
    return text;
}

} // namespace

namespace {

/** parse_line() - one "<key id> <hex key>" line. */
Result<PresharedKey> parse_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.remove_suffix(1);
    auto space = line.find(' ');
    if (space == std::string_view::npos)
        return Error{"expected \"<key id> <hex key>\""};
    auto secret = parse_hex(line.substr(space + 1));
    if (!secret)
        return secret.error();
    auto key = PresharedKey::from_bytes(std::string(line.substr(0, space)), *secret);
    OPENSSL_cleanse(secret->data(), secret->size());
    return key;
}

} // namespace

Result<Keyring> Keyring::load(const std::string& path)
{
    auto text = read_private_file(path);
    if (!text)
        return text.error();
    std::vector<PresharedKey> keys;
    std::string_view rest(*text);
    Error error;
    for (int line_no = 1; !rest.empty() && error.message.empty(); ++line_no) {
        auto eol = rest.find('\n');
        std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
        auto key = parse_line(line);
        if (key)
            keys.push_back(std::move(*key));
        else
            error = with_context("line " + std::to_string(line_no), key.error());
    }
    OPENSSL_cleanse(text->data(), text->size());
    if (!error.message.empty())
        return with_context("key file " + path, error);
    auto ring = of(std::move(keys));
    if (!ring)
        return with_context("key file " + path, ring.error());
    return ring;
}

Result<Keyring> Keyring::of(std::vector<PresharedKey> keys)
{
    if (keys.empty() || keys.size() > max_keys)
        return Error{"a keyring holds 1 to " + std::to_string(max_keys) + " keys, not " +
                     std::to_string(keys.size())};
    for (std::size_t i = 0; i < keys.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (keys[i].id() == keys[j].id())
                return Error{"key id " + keys[i].id() + " appears twice"};
    return Keyring(std::move(keys));
}

const PresharedKey* Keyring::find(std::string_view id) const
{
    for (const PresharedKey& key : keys_)
        if (key.id() == id)
            return &key;
    return nullptr;
}

bool KeyringFile::Stamp::operator==(const Stamp& o) const
{
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec &&
           ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

Result<std::shared_ptr<const Keyring>> KeyringFile::keys()
{
    std::lock_guard lock(mutex_);
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) {
        keys_.reset();
        stamp_ = {};
        return Error::from_errno("stat key file " + path_);
    }
    Stamp now{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    if (keys_ && now == stamp_)
        return keys_;
    // Stamped before reading: a change while we read is seen next time.
    stamp_ = now;
    auto ring = Keyring::load(path_);
    if (!ring) {
        keys_.reset();
        return ring.error();
    }
    keys_ = std::make_shared<const Keyring>(std::move(*ring));
    return keys_;
}

Result<PresharedKey> PresharedKey::from_bytes(std::string id, std::span<const std::uint8_t> key)
{
    if (!valid_id(id))
        return Error{"key id must be 1 to " + std::to_string(max_id_size) + " printable characters without spaces"};
    if (key.size() != key_size)
        return Error{"key must be " + std::to_string(key_size) + " bytes, not " + std::to_string(key.size())};
    return PresharedKey(std::move(id), std::vector<std::uint8_t>(key.begin(), key.end()));
}

PresharedKey::~PresharedKey()
{
    if (!key_.empty())
        OPENSSL_cleanse(key_.data(), key_.size());
}

} // namespace xo::handoff
