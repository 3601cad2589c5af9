.PHONY: test bench bench-ocr bench-speed bench-read bench-tilt bench-crops bench-specimens

test:
	python -m pytest

# Benchmarks need ../shared/data beside the checkout, Tesseract (apt-get install tesseract-ocr) and
# RapidOCR (pip install rapidocr onnxruntime); engines that are missing are skipped with a message.
bench: bench-speed bench-ocr bench-read bench-tilt bench-crops bench-specimens

bench-ocr:
	python benchmarks/bench_ocr.py

bench-speed:
	python benchmarks/bench_speed.py

bench-read:
	python benchmarks/bench_read.py

bench-tilt:
	python benchmarks/bench_tilt.py

bench-crops:
	python benchmarks/bench_crops.py

bench-specimens:
	python benchmarks/bench_specimens.py --degraded 300 --read
