"""Default detection thresholds, shared by the reader, batch jobs, the CLI and the detector.

A module of its own, without OpenCV or ONNX Runtime imports, so that light callers (batch options parsed
at start-up) take the same numbers as the reader instead of copies of them.
"""

#: Detections scoring this much or more are plates.
DEFAULT_THRESHOLD = 0.35
#: Detections scoring between this and the threshold must be confirmed by the classifier and the plate format
#: (chosen on endtoend/us: US recall 95.0% -> 98.2% at 0.25; 0.25 -> 0.2 with FORMAT_READING in
#: numberplate/reader.py: 97.7 -> 98.2% with the classifier, plate-free photos with a text 47 -> 41 of 940;
#: see README "Measured results").
DEFAULT_CONFIRM_THRESHOLD = 0.2
