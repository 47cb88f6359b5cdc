"""The post as the user builds it: drafts, versions, templates, editing, bulk plans."""
