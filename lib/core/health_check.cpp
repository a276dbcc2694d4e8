#include <coalias/health_check.hpp>

namespace coalias {

std::string_view truncate_output(std::string_view output, std::size_t max) noexcept {
  if (output.size() <= max) return output;
  std::size_t cut = max;
  // Back off over continuation bytes (10xxxxxx): the character they belong to started before the cut. A UTF-8
  // character has at most 3 of them; more is not UTF-8, and then cutting at `max` loses least.
  for (int back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(output[cut]) & 0xC0) == 0x80; ++back) --cut;
  if ((static_cast<unsigned char>(output[cut]) & 0xC0) == 0x80) cut = max;
  return output.substr(0, cut);
}

}  // namespace coalias
