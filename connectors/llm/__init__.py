"""The LLM layer behind listing drafts: one port, adapters for OpenAI and Anthropic through their official
SDKs, an offline provider (the default), versioned prompt files, structured output, a draft cache and cost
caps."""
