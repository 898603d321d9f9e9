// Interface text: one catalog per language under assets/i18n/ (a flat JSON object of
// "key": "text"), looked up with tr("key"), the chosen language first and English under it.
// The window uses one Translator from its UI thread; the model only stores keys (see Problem).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace outpost::app {

// Values for the {name} placeholders of a text.
using TextParams = std::vector<std::pair<std::string, std::string>>;

class Catalog {
 public:
  // Throws std::runtime_error naming the file and what is wrong with it.
  static Catalog load(const std::string& path);
  const std::string* find(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& texts() const { return texts_; }

 private:
  std::map<std::string, std::string, std::less<>> texts_;
};

class Translator {
 public:
  // Until load(), every text is its key.
  // Loads `language` over English from `i18n_directory`. A language without a catalog (or with
  // a broken one) is logged and leaves English in place; English itself must load.
  void load(const std::string& i18n_directory, const std::string& language);

  const std::string& language() const { return language_; }
  // The text for `key`, or the key itself (logged once) when no catalog has it. The pointer
  // stays valid until the next load().
  const char* text(std::string_view key) const;
  // `key` with its {name} placeholders filled in.
  std::string format(std::string_view key, const TextParams& params) const;
  // KEY.one or KEY.other by the language's plural rule, with {count} filled in.
  std::string count(std::string_view key, int64_t count, TextParams params = {}) const;

 private:
  Catalog english_;
  Catalog chosen_;
  std::string language_ = "en";
};

// The interface's translator (UI thread only).
Translator& translator();
inline const char* tr(std::string_view key) { return translator().text(key); }

// Replaces each {name} of `pattern` with its value; unknown placeholders stay as they are.
std::string fill_placeholders(const std::string& pattern, const TextParams& params);

// The user's language from LC_ALL, LC_MESSAGES or LANG ("fr_FR.UTF-8" -> "fr"); "en" when unset or "C".
std::string system_language();
// Language codes with a catalog in `i18n_directory`, sorted.
std::vector<std::string> available_languages(const std::string& i18n_directory);
// What to show: the preference when it has a catalog, else the system language when it has one, else English.
std::string choose_language(const std::string& preference, const std::vector<std::string>& available);

}  // namespace outpost::app
