"""Pictures citizens forward: safe decoding, perceptual hashes, OCR, storage. No Telegram types.

decode.py   refuse what is not an image, stop decompression bombs, strip metadata
video.py    thumbnails and key frames of GIFs and videos (ffmpeg, when installed)
trim.py     peel uniform borders and phone/chat-app bars before hashing
hashing.py  the perceptual hash (and the plain pHash it is measured against)
hash_index.py  packed hashes and a Hamming-distance search
ocr.py, chat_furniture.py  Tesseract, its pre-processing, and the chat-app text it must drop
pictures.py the picture table and the domain functions on it
"""
