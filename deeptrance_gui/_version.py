"""The version, in a module of its own so that core modules can read it without importing the
package's scripting API."""

__version__ = "0.1.0"
