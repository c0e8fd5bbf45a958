#include "cli/abi_section.hpp"

#include "core/registry.hpp"

#include <tomodachi/main.hpp>

#include <elf.h>

#include <cstring>
#include <fstream>

namespace tomodachi::cli {
namespace {

template <typename T>
bool read_at(std::ifstream& file, std::uint64_t offset, T& value) {
  file.seekg(static_cast<std::streamoff>(offset));
  return static_cast<bool>(file.read(reinterpret_cast<char*>(&value), sizeof value));
}

}  // namespace

std::optional<std::vector<std::string>> read_abi_tags(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  Elf64_Ehdr header{};
  if (!file || !read_at(file, 0, header)) return std::nullopt;
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx >= header.e_shnum) {
    return std::nullopt;
  }
  Elf64_Shdr names{};
  if (!read_at(file, header.e_shoff + std::uint64_t{header.e_shstrndx} * sizeof(Elf64_Shdr),
               names)) {
    return std::nullopt;
  }
  std::string section_names(names.sh_size, '\0');
  file.seekg(static_cast<std::streamoff>(names.sh_offset));
  if (!file.read(section_names.data(), static_cast<std::streamsize>(section_names.size())))
    return std::nullopt;

  for (std::uint16_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr section{};
    if (!read_at(file, header.e_shoff + std::uint64_t{i} * sizeof(Elf64_Shdr), section))
      return std::nullopt;
    if (section.sh_name >= section_names.size() ||
        std::strcmp(section_names.c_str() + section.sh_name, ".tomodachi_abi") != 0) {
      continue;
    }
    std::string content(section.sh_size, '\0');
    file.seekg(static_cast<std::streamoff>(section.sh_offset));
    if (!file.read(content.data(), static_cast<std::streamsize>(content.size())))
      return std::nullopt;
    std::vector<std::string> tags;
    std::size_t start = 0;
    while (start < content.size()) {
      const std::size_t end = content.find('\0', start);
      const std::string tag =
          content.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!tag.empty()) tags.push_back(tag);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return tags;
  }
  return std::nullopt;
}

void check_abi_tags(const std::string& path) {
  const auto tags = read_abi_tags(path);
  if (!tags) return;  // not produced by TOMODACHI_SERVICE: the loader reports what it finds
  for (const auto& tag : *tags) {
    if (tag != library_abi_tag()) {
      throw detail::AbiMismatch("'" + path + "' was built for [" + tag + "] but this runtime is [" +
                                library_abi_tag() +
                                "]; rebuild it with this tomodachi (tomodachi build)");
    }
  }
}

}  // namespace tomodachi::cli
