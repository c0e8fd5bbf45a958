// The key function of tomodachi::Error (include/tomodachi/error.hpp).
#include <tomodachi/error.hpp>

namespace tomodachi {

Error::~Error() = default;

}  // namespace tomodachi
