#include "platform/crypto.h"

#include <sodium.h>

#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>

namespace outpost::crypto {

namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

std::string to_hex(const unsigned char* data, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

// Exactly `size` bytes from hex; nullopt for anything else.
std::optional<std::vector<unsigned char>> from_hex(const std::string& hex, size_t size) {
  std::vector<unsigned char> bytes(size);
  size_t written = 0;
  const char* end = nullptr;
  if (hex.size() != size * 2 ||
      sodium_hex2bin(bytes.data(), size, hex.data(), hex.size(), nullptr, &written, &end) != 0 || written != size)
    return std::nullopt;
  return bytes;
}
}  // namespace

std::string random_hex(size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> buffer(bytes);
  randombytes_buf(buffer.data(), buffer.size());
  return to_hex(buffer.data(), buffer.size());
}

std::string sha256_hex(std::string_view data) {
  ensure_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(digest.data(), digest.size());
}

Sha256::Sha256() : state_(std::make_unique<crypto_hash_sha256_state>()) {
  ensure_sodium();
  crypto_hash_sha256_init(state_.get());
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  crypto_hash_sha256_update(state_.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Sha256::finish_hex() {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(state_.get(), digest.data());
  return to_hex(digest.data(), digest.size());
}

std::string human_code(int groups) {
  ensure_sodium();
  std::string code;
  for (int group = 0; group < groups; ++group) {
    if (group > 0) code += '-';
    for (int i = 0; i < 4; ++i) code += kCrockford[randombytes_uniform(32)];
  }
  return code;
}

std::string normalize_human_code(std::string_view typed) {
  std::string code;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c == 'I' || c == 'L') c = '1';
    if (c == 'O') c = '0';
    code += c;
  }
  return code;
}

std::string uuid4() {
  ensure_sodium();
  std::array<unsigned char, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  const std::string hex = to_hex(bytes.data(), bytes.size());
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' + hex.substr(16, 4) + '-' +
         hex.substr(20);
}

bool equal_secret(std::string_view a, std::string_view b) {
  ensure_sodium();
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// --- Ed25519 signatures

SigningKeyPair generate_signing_key() {
  ensure_sodium();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
  crypto_sign_keypair(public_key.data(), secret_key.data());
  SigningKeyPair pair{to_hex(public_key.data(), public_key.size()), to_hex(secret_key.data(), secret_key.size())};
  sodium_memzero(secret_key.data(), secret_key.size());
  return pair;
}

std::string sign_hex(std::string_view message, const std::string& secret_hex) {
  ensure_sodium();
  auto secret_key = from_hex(secret_hex, crypto_sign_SECRETKEYBYTES);
  if (!secret_key) throw std::invalid_argument("the signing key is not an Ed25519 secret key");
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_key->data());
  sodium_memzero(secret_key->data(), secret_key->size());
  return to_hex(signature.data(), signature.size());
}

bool signature_valid(std::string_view message, const std::string& signature_hex, const std::string& public_hex) {
  ensure_sodium();
  const auto signature = from_hex(signature_hex, crypto_sign_BYTES);
  const auto public_key = from_hex(public_hex, crypto_sign_PUBLICKEYBYTES);
  return signature && public_key &&
         crypto_sign_verify_detached(signature->data(), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key->data()) == 0;
}

}  // namespace outpost::crypto
