// libFuzzer target: arbitrary bytes as an ELF image (truncated, corrupt, hostile). Everything the
// symbolizer derives from an image is exercised: headers, notes, debug link, both symbol tables,
// the sorted table and address translation.
#include <cstddef>
#include <cstdint>
#include <span>

#include "agent/symbolizer/address_translation.hpp"
#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/module_symbols.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto image = kprof::agent::ElfImage::parse(bytes);
  if (!image) {
    return 0;
  }
  (void)image->findSection(".text");
  (void)image->functionSymbols(kprof::agent::ElfImage::kDynsym);
  // No debug search: the fuzzer must not open files.
  const kprof::agent::ModuleSymbols module = kprof::agent::loadModuleSymbols(*image, nullptr);
  module.symbols.forEach([&](uint64_t start, uint64_t, std::string_view) {
    if (!module.symbols.lookup(start)) {
      __builtin_trap();  // every symbol covers at least its own start
    }
  });
  for (const auto& segment : image->loadSegments()) {
    if (auto address =
            kprof::agent::elfAddressOfFileOffset(image->loadSegments(), segment.fileOffset)) {
      (void)module.symbols.lookup(*address);
    }
  }
  return 0;
}
