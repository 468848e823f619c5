// The only place yingtong sees libxml2's C API; YingtongXML wraps it so no other module imports it.
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, so encoding.h would pull in the system's ICU headers, whose `UErrorCode`
// clashes with the newer ICU that Foundation bundles (_FoundationICU) as soon as both meet in one Swift module.
// yingtong never touches the ICU-only fields (it passes encoding handlers around only as pointers), so the ICU
// part of libxml2's headers is left out.
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
