#include <coalias/health_check.hpp>

namespace coalias {

std::string_view truncate_output(std::string_view output, std::size_t max) noexcept {
  if (output.size() <= max) return output;
  std::size_t cut = max;
  // Back off over continuation bytes (10xxxxxx): the character they belong to started before the cut.
  while (cut > 0 && (static_cast<unsigned char>(output[cut]) & 0xC0) == 0x80) --cut;
  return output.substr(0, cut);
}

}  // namespace coalias
