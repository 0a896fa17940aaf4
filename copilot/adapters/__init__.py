"""Adapters that plug copilot into other ecosystems (LangChain: ``copilot.adapters.langchain``)."""
