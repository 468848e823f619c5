// The only place yingtong sees libxml2's C API; YingtongXML wraps it so no other module imports it.
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
