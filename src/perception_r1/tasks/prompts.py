"""The paper's user prompts (Perception-R1 section 3.2, Table 8; released code ``constants.py``)."""

#: Grounding: ``{question}`` is the referring expression.
GROUNDING_PROMPT = "Output the bounding box of the {question} in the image."
#: Counting: ``{question}`` is the category name. No trailing period, as in the released template.
COUNTING_PROMPT = "Output all the bounding boxes of the {question}"
