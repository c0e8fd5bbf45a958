#pragma once
// Service classes registered by TOMODACHI_SERVICE (per loaded file) and the running
// instances behind get_service().

#include <tomodachi/error.hpp>
#include <tomodachi/main.hpp>

#include <string>
#include <vector>

namespace tomodachi::detail {

struct ServiceClass {
  std::string class_name;
  ServiceFactory factory;
  std::string source_file;
};

/// Raised when a shared object was built for another library/compiler (ABI tag).
class AbiMismatch : public Error {
 public:
  using Error::Error;
};

/// Registrations made while loading `file` (between begin and end) belong to it.
void begin_loading(const std::string& file);
/// The classes registered since begin_loading; throws AbiMismatch naming both tags.
std::vector<ServiceClass> end_loading();
/// Classes registered outside begin/end_loading (linked into the binary).
std::vector<ServiceClass> linked_classes();

void register_instance(Service* service);
void clear_instances();
std::vector<Service*> instances();

}  // namespace tomodachi::detail
